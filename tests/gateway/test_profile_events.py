"""The `profile` event reaches plain WebSocket (/ws) clients as it does Socket.IO ones: a change
made over Socket.IO is seen on /ws by someone in a room with that person, and by the person's
own /ws connection (which is in no room), once each, on the real server."""
from tests.gateway.conftest import PlainClient
from tests.support import ChatClient, unique

PASSWORD = "a long password here"


def test_a_profile_change_reaches_ws_clients(live_server):
    alice, bob = unique("alice"), unique("bob")
    for name in (alice, bob):
        live_server.flask("users", "create", name, "--password", PASSWORD)
    alice_token = live_server.flask("tokens", "create", alice, "t")
    bob_token = live_server.flask("tokens", "create", bob, "t")
    room = unique("faces")
    changer = ChatClient(live_server.url, alice).connect(token=alice_token)
    own_tab = PlainClient(live_server.url, token=alice_token)
    watcher = PlainClient(live_server.url, token=bob_token)
    try:
        assert changer.call("join", {"room": room})["ok"]
        assert watcher.call("join", room=room)["ok"]
        card = changer.call("set_profile", {"display_name": "Alice"})["profile"]
        assert watcher.wait("profile") == card
        assert own_tab.wait("profile") == card
        assert watcher.call("profile", name=alice)["profile"] == card
    finally:
        changer.close()
        own_tab.close()
        watcher.close()

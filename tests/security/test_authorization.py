"""Authorization against the real server: tokens made with the CLI, private rooms over the wire.

Attacks tried: an outsider joining, reading (socket and REST) and watching a private room; a
revoked-by-ban user reconnecting; a guest using a registered user's name.
"""
import pytest
import requests
import socketio

from tests.support import ChatClient, unique


@pytest.fixture(scope="module")
def people(live_server):
    """Registered users with API tokens, made the way an operator would (flask CLI)."""
    names = {role: unique(role) for role in ("owner", "outsider", "admin")}
    tokens = {}
    for role, name in names.items():
        extra = ["--admin"] if role == "admin" else []
        live_server.flask("users", "create", name, "--password", "a long password here", *extra)
        tokens[role] = live_server.flask("tokens", "create", name, "test")
    return names, tokens


def as_user(url, tokens, role):
    return ChatClient(url, role).connect(token=tokens[role])


def test_a_private_room_leaks_nothing_to_outsiders(live_server, people):
    _, tokens = people
    owner, outsider = as_user(live_server.url, tokens, "owner"), as_user(live_server.url, tokens, "outsider")
    room = unique("vault")
    assert owner.call("create_room", {"room": room, "private": True})["ok"]
    owner.call("join", {"room": room})
    owner.call("message", {"room": room, "text": "the secret"})
    assert outsider.call("join", {"room": room})["error"]["code"] == "forbidden"
    assert outsider.call("history", {"room": room})["error"]["code"] == "not_in_room"
    owner.call("typing", {"room": room, "typing": True})
    owner.call("message", {"room": room, "text": "another secret"})
    rest = requests.get(f"{live_server.url}/api/rooms/{room}/messages",
                        headers={"Authorization": f"Bearer {tokens['outsider']}"}, timeout=5)
    assert rest.status_code == 404 and "secret" not in rest.text  # as if there were no room
    # what the outsider's connection received in all that time: nothing from the room
    for event in ("message", "presence", "typing"):
        assert all(item.get("room") != room for item in list(outsider.queues[event].queue))
    owner.close(), outsider.close()


def test_a_guest_cannot_pose_as_a_registered_user(live_server, people):
    names, _ = people
    client = socketio.Client(reconnection=False)
    errors = []
    client.on("connect_error", errors.append)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(live_server.url, auth={"name": names["owner"]}, wait_timeout=5)
    assert errors[0]["data"]["code"] == "name_registered"


def test_a_banned_user_is_disconnected_and_stays_out(live_server):
    victim = unique("victim")
    live_server.flask("users", "create", victim, "--password", "a long password here")
    victim_token = live_server.flask("tokens", "create", victim, "t")
    admin = unique("boss")
    live_server.flask("users", "create", admin, "--admin", "--password", "a long password here")
    admin_client = ChatClient(live_server.url, admin).connect(token=live_server.flask("tokens", "create", admin, "t"))
    client = ChatClient(live_server.url, victim).connect(token=victim_token)
    assert admin_client.call("ban", {"user": victim}) == {"ok": True}
    assert client.disconnected.wait(timeout=5)
    with pytest.raises(socketio.exceptions.ConnectionError):
        ChatClient(live_server.url, victim).connect(token=victim_token)
    admin_client.close()

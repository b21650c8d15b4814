"""Read state reaches /ws connections too (issue 18): a mark made on Socket.IO is a ``read`` event
on the same account's plain WebSocket, and the other way round."""
import queue

from tests.gateway.conftest import PlainClient
from tests.support import ChatClient, unique

PASSWORD = "a long password here"


def test_a_mark_on_one_transport_is_an_event_on_the_other(live_server):
    name, poster, room = unique("reader"), unique("poster"), unique("reads")
    for who in (name, poster):
        live_server.flask("users", "create", who, "--password", PASSWORD)
    token = live_server.flask("tokens", "create", name, "t")
    other = ChatClient(live_server.url, poster).connect(
        token=live_server.flask("tokens", "create", poster, "t"))
    laptop = ChatClient(live_server.url, name)
    laptop.queues["read"] = queue.Queue()
    laptop.sio.on("read", laptop.queues["read"].put)
    laptop.connect(token=token)
    phone = PlainClient(live_server.url, token=token)
    try:
        assert phone.call("join", room=room)["unread"] == 0
        assert laptop.call("join", {"room": room})["ok"] and other.call("join", {"room": room})["ok"]
        sent = [other.call("message", {"room": room, "text": f"m{i}"})["message"] for i in range(2)]
        ack = laptop.call("read", {"room": room, "id": sent[0]["id"]})
        assert ack["unread"] == 1
        assert phone.wait("read") == {"room": room, "last_read": sent[0]["seq"], "unread": 1,
                                      "mentions": 0}
        assert phone.call("read", room=room, seq=sent[1]["seq"])["unread"] == 0
        assert laptop.wait("read", lambda e: e["last_read"] == sent[1]["seq"])["unread"] == 0
    finally:
        for client in (other, laptop, phone):
            client.close()

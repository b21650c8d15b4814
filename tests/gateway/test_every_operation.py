"""Every operation of webapp/chat/ops.py works over Socket.IO and over the plain WebSocket (/ws).

The operations are written once (``ops.OPS``) and adapted twice; this test enumerates the table,
so an operation added there without a step here fails, and drives each over both transports on
the real server, with the same answer shape on both.
"""
import re

import pytest

from tests.gateway.conftest import PlainClient
from tests.support import ChatClient, unique
from webapp.chat.ops import OPS

PASSWORD = "a long password here"


def steps(admin: str, other: str) -> list[tuple[str, callable]]:
    """(op, payload from what earlier steps answered), in an order that makes each one valid."""
    room, private, guest = unique("ops"), unique("priv"), unique("banned")
    # A browser's PushSubscription (the session's server has VAPID keys: tests/conftest.py).
    browser = {"endpoint": f"https://fcm.googleapis.com/fcm/send/{unique('b')}",
               "keys": {"p256dh": "B" + "A" * 86, "auth": "A" * 22}}
    return [
        ("rooms", lambda seen: {}),
        ("join", lambda seen: {"room": room}),
        ("message", lambda seen: {"room": room, "text": "hello from every transport"}),
        ("edit", lambda seen: {"room": room, "id": first(seen), "text": "hello, edited"}),
        ("edits", lambda seen: {"room": room, "id": first(seen)}),
        ("react", lambda seen: {"room": room, "id": first(seen), "emoji": "👍", "on": True}),
        ("pin", lambda seen: {"room": room, "id": first(seen), "on": True}),
        ("pins", lambda seen: {"room": room}),
        ("thread", lambda seen: {"room": room, "id": first(seen)}),
        ("sync", lambda seen: {"room": room, "since": seen["join"]["seq"]}),
        ("search", lambda seen: {"q": "edited", "room": room}),
        ("typing", lambda seen: {"room": room, "typing": True}),
        ("history", lambda seen: {"room": room}),
        ("commands", lambda seen: {"room": room}),
        ("read", lambda seen: {"room": room, "id": first(seen)}),
        ("mentions", lambda seen: {}),
        ("read_receipts", lambda seen: {"on": True}),
        ("delete_message", lambda seen: {"room": room, "id": first(seen)}),
        ("leave", lambda seen: {"room": room}),
        ("create_room", lambda seen: {"room": private, "private": True}),
        ("invite", lambda seen: {"room": private, "user": other}),
        ("kick", lambda seen: {"room": private, "user": other}),
        ("dm", lambda seen: {"user": other}),
        ("ban", lambda seen: {"user": guest, "minutes": 1}),
        ("bans", lambda seen: {}),
        ("unban", lambda seen: {"user": guest}),
        ("block", lambda seen: {"user": other, "on": True}),
        ("blocks", lambda seen: {}),
        ("active", lambda seen: {"active": True}),
        ("notify_settings", lambda seen: {}),
        ("set_notify", lambda seen: {"room": room, "level": "all", "mute_minutes": 60}),
        ("push_subscribe", lambda seen: browser),
        ("push_unsubscribe", lambda seen: {"endpoint": browser["endpoint"]}),
        ("set_retention", lambda seen: {"room": private, "days": 30}),
        ("set_profile", lambda seen: {"display_name": "The Admin", "status": {"emoji": "🛠"}}),
        ("profile", lambda seen: {"name": other}),
        ("profiles", lambda seen: {"names": [admin, other]}),
    ]


def first(seen: dict) -> int:
    return seen["message"]["message"]["id"]


def test_every_operation_has_a_step_here():
    assert sorted(op for op, _ in steps("a", "b")) == sorted(OPS)


def run(call, admin: str, other: str) -> dict:
    seen = {}
    for op, payload in steps(admin, other):
        answer = call(op, payload(seen))
        assert answer.get("ok") is True, (op, answer)
        seen[op] = answer
    return seen


@pytest.fixture
def accounts(live_server):
    """An admin, and for each transport another account to invite, kick, DM and block."""
    admin, others = unique("admin"), (unique("other"), unique("other"))
    live_server.flask("users", "create", admin, "--admin", "--password", PASSWORD)
    for other in others:
        live_server.flask("users", "create", other, "--password", PASSWORD)
    return admin, others, live_server.flask("tokens", "create", admin, "t")


def test_every_operation_over_both_transports(live_server, accounts):
    admin, (other, another), token = accounts
    socketio_client = ChatClient(live_server.url, admin).connect(token=token)
    plain = PlainClient(live_server.url, token=token)
    try:
        over_socketio = run(lambda op, data: socketio_client.call(op, data), admin, other)
        over_ws = run(lambda op, data: plain.call(op, **data), admin, another)
    finally:
        socketio_client.close()
        plain.close()
    for op in OPS:  # the same answer, field for field, whichever transport asked ("ref": /ws's)
        assert set(over_socketio[op]) == set(over_ws[op]) - {"ref"}, op


def test_the_gateway_docs_list_every_operation():
    """docs/websocket.md names the operations /ws takes: exactly the table's."""
    from tests.support import ROOT

    docs = (ROOT / "docs" / "websocket.md").read_text()
    listed = docs.split("every operation of", 1)[1].split("-- with", 1)[0]
    assert sorted(re.findall(r"`(\w+)`", listed)) == sorted(OPS)

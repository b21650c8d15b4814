"""Frames no library would send, over a raw socket: clear close codes, and the server carries on."""
import json

import pytest

from tests.gateway.conftest import PlainClient, RawSocket
from tests.support import unique
from webapp.gateway.protocol import OPS

MAX = 64 * 1024  # MAX_HTTP_BUFFER_SIZE's default, which the live server runs with


def raw_guest(url: str) -> RawSocket:
    raw = RawSocket(url, path=f"/ws?name={unique('raw')}")
    assert raw.status == 101 and raw.read_json()["event"] == "welcome"
    return raw


@pytest.mark.parametrize(
    "send,status",
    [
        (lambda raw: raw.frame(0x2, b"\x00\x01binary"), 1003),  # binary: text only
        (lambda raw: raw.frame(0x1, b"\xff\xfe not utf-8"), 1007),
        (lambda raw: raw.frame(0x1, length=MAX + 1), 1009),  # refused on the header alone
        (lambda raw: raw.frame(0x1, b"{}", mask=False), 1002),  # clients must mask
        (lambda raw: raw.frame(0x0, b"orphan continuation"), 1002),
        (lambda raw: raw.frame(0x3, b"reserved opcode"), 1002),
    ],
    ids=["binary", "bad-utf8", "huge-frame", "unmasked", "orphan-continuation", "bad-opcode"],
)
def test_malformed_frames_close_with_a_code_that_says_why(live_server, send, status):
    raw = raw_guest(live_server.url)
    send(raw)
    assert raw.close_status()[0] == status
    raw.close()
    assert_server_carries_on(live_server)


@pytest.mark.parametrize(
    "piece,count", [(b"x" * 8192, 9), (b"x", 300)], ids=["too-big-in-sum", "too-many-fragments"]
)
def test_fragment_floods_are_bounded(live_server, piece, count):
    raw = raw_guest(live_server.url)
    try:
        raw.frame(0x1, piece, fin=False)
        for _ in range(count - 1):
            raw.frame(0x0, piece, fin=False)
    except OSError:  # the server may close while we are still sending
        pass
    assert raw.close_status()[0] == 1009
    raw.close()
    assert_server_carries_on(live_server)


def test_fragments_and_pings_within_limits_are_fine(live_server):
    raw = raw_guest(live_server.url)
    raw.frame(0x9, b"are you there")
    assert raw.read() == (0xA, b"are you there")
    room = unique("frag")
    body = json.dumps({"op": "join", "room": room, "ref": 1}).encode()
    raw.frame(0x1, body[:5], fin=False)
    raw.frame(0x9, b"mid-message ping")  # control frames may interleave
    raw.frame(0x0, body[5:])
    assert raw.read() == (0xA, b"mid-message ping")
    assert raw.read_json()["event"] == "presence"
    joined = raw.read_json()
    assert joined["ref"] == 1 and joined["room"]["name"] == room
    raw.close()


def test_oversized_text_and_bad_json_are_answered_not_closed(live_server):
    raw = raw_guest(live_server.url)
    raw.text(json.dumps({"op": "message", "room": "general", "text": "x" * 5000, "ref": "big"}))
    assert raw.read_json()["error"]["code"] in {"invalid_text", "not_in_room"}
    raw.text("{ nope")
    assert raw.read_json()["error"]["code"] == "invalid_payload"
    raw.text('{"op": "shout", "ref": 9}')
    assert raw.read_json() == {"ref": 9, "ok": False, "error": {
        "code": "unknown_event", "message": f"Unknown op 'shout'; ops are {', '.join(OPS)}."}}
    raw.close()


def assert_server_carries_on(live_server):
    client = PlainClient(live_server.url, name=unique("after"))
    assert client.call("rooms")["ok"]
    client.close()

"""The gateway's frame format, without a server: parsing, replies, framing, close reasons."""
import json
import struct

import pytest

from webapp.errors import AppError
from webapp.gateway import protocol


def test_plain_text_is_a_message_to_the_current_room():
    assert protocol.parse("Hello, world!") == protocol.Request(protocol.TEXT, {"text": "Hello, world!"})
    assert protocol.parse("[1, 2]").op == protocol.TEXT  # only a leading '{' means JSON


def test_a_json_frame_names_its_op_and_ref():
    request = protocol.parse(' {"op": "join", "room": "general", "ref": 7}')
    assert request == protocol.Request("join", {"room": "general"}, 7)


@pytest.mark.parametrize(
    "frame,code,ref",
    [
        ("{not json", "invalid_payload", None),
        ('{"room": "general", "ref": "a"}', "invalid_payload", "a"),
        ('{"op": 3, "ref": 1}', "invalid_payload", 1),
        ('{"op": "frobnicate", "ref": "x"}', "unknown_event", "x"),
        ('{"op": "text", "text": "hi"}', "unknown_event", None),
        ('{"op": "join", "ref": [1]}', "invalid_payload", None),
        ('{"op": "join", "ref": true}', "invalid_payload", None),
        ('{"op": "join", "ref": "' + "x" * 200 + '"}', "invalid_payload", None),
    ],
)
def test_bad_frames_are_refused_with_a_code_and_their_ref_when_readable(frame, code, ref):
    with pytest.raises((AppError, protocol.Rejected)) as caught:
        protocol.parse(frame)
    error = caught.value.error if isinstance(caught.value, protocol.Rejected) else caught.value
    assert error.code == code
    assert getattr(caught.value, "ref", None) == ref


def test_replies_echo_the_ref_and_events_carry_the_socketio_payload():
    assert json.loads(protocol.reply("r1", {"ok": True})) == {"ref": "r1", "ok": True}
    assert json.loads(protocol.reply(None, {"ok": True})) == {"ok": True}
    assert json.loads(protocol.event("typing", {"user": "a"})) == {
        "event": "typing", "data": {"user": "a"},
    }
    assert protocol.reply("\ud800", {"ok": True}).isascii()  # lone surrogates cannot break UTF-8


@pytest.mark.parametrize("size,header_length", [(0, 2), (125, 2), (126, 4), (65535, 4), (65536, 10)])
def test_text_frames_are_unmasked_and_sized_as_rfc_6455_says(size, header_length):
    frame = protocol.text_frame("x" * size)
    assert len(frame) == header_length + size and frame[0] == 0x81 and not frame[1] & 0x80
    if header_length == 4:
        assert struct.unpack("!H", frame[2:4])[0] == size


def test_close_reasons_fit_a_control_frame_without_splitting_characters():
    reason = protocol.close_reason(AppError("é" * 200, code="name_taken"))
    assert reason.startswith("name_taken: ") and len(reason.encode()) <= protocol.MAX_REASON
    assert protocol.close_code(AppError("x", code="unavailable")) == protocol.TRY_AGAIN_LATER
    assert protocol.close_code(AppError("x", code="guests_disabled")) == protocol.POLICY

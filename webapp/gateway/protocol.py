"""The gateway's wire format: JSON text frames in, JSON text frames out (docs/websocket.md).

Pure functions, no sockets: parse what a client sent, shape what the server sends, and frame it
the way RFC 6455 wants a server to (unmasked, uncompressed), so a broadcast is framed once.
"""
from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from typing import Any

from webapp.chat.ops import OPS as OPERATIONS
from webapp.errors import AppError, InvalidPayload

# Close codes (RFC 6455 section 7.4.1) and when the gateway uses them.
GOING_AWAY = 1001  # no answer to pings: the client is gone
UNSUPPORTED_DATA = 1003  # a binary frame: the gateway speaks text only
POLICY = 1008  # not authenticated, refused, flooding, too slow to read
TOO_BIG = 1009  # a (fragmented) message over MAX_HTTP_BUFFER_SIZE
TRY_AGAIN_LATER = 1013  # the server cannot check who you are right now (code "unavailable")

# Every operation of webapp/chat/ops.py, and "auth" (the gateway's own way to say who you are).
OPS = ("auth", *OPERATIONS)
TEXT = "text"  # what a plain text frame is; not an op a JSON frame may name
MAX_REF = 128  # characters: enough for a UUID or a counter, too little to echo a payload back
MAX_REASON = 123  # bytes: a close frame's control payload (125) minus the status code


@dataclass(frozen=True)
class Request:
    """One client frame: an operation, its fields (the Socket.IO payload) and the ``ref`` to echo."""

    op: str
    data: dict = field(default_factory=dict)
    ref: str | int | None = None


def parse(frame: str) -> Request:
    """Read a text frame: a JSON object with ``op``, or plain text to post to the current room.

    A frame whose first non-blank character is ``{`` is JSON and must be valid; anything else is a
    chat message, so ``ws.send("Hello, world!")`` works without knowing the protocol.
    """
    if not frame.lstrip().startswith("{"):
        return Request(TEXT, {"text": frame})
    try:
        body = json.loads(frame)
    except ValueError as exc:
        raise InvalidPayload(f"The frame starts with '{{' but is not valid JSON: {exc}.") from None
    if not isinstance(body, dict):  # "{...} trailing" cannot parse, so this is defensive
        raise InvalidPayload("A JSON frame must be an object.")
    ref = body.pop("ref", None)
    if ref is not None and (
        isinstance(ref, bool) or not isinstance(ref, (str, int)) or len(str(ref)) > MAX_REF
    ):
        raise InvalidPayload(f"'ref' must be a string or an integer of at most {MAX_REF} characters.")
    op = body.pop("op", None)
    if not isinstance(op, str):
        raise Rejected(InvalidPayload("Every JSON frame needs an \"op\", e.g. {\"op\": \"join\", "
                                      "\"room\": \"general\"}."), ref)
    if op not in OPS:
        raise Rejected(InvalidPayload(f"Unknown op {op[:40]!r}; ops are {', '.join(OPS)}.",
                                      code="unknown_event"), ref)
    return Request(op, body, ref)


class Rejected(Exception):
    """A frame refused after its ``ref`` was read, so the error reply can still carry it."""

    def __init__(self, error: AppError, ref: str | int | None) -> None:
        super().__init__(error.message)
        self.error, self.ref = error, ref


def reply(ref: str | int | None, answer: dict) -> str:
    """The answer to one client frame: the Socket.IO ack, plus ``ref`` when the client sent one."""
    return encode(answer if ref is None else {"ref": ref, **answer})


def event(name: str, data: Any) -> str:
    """A server event, the same name and payload Socket.IO clients receive."""
    return encode({"event": name, "data": data})


def encode(obj: Any) -> str:
    # ASCII escapes: a client's ``ref`` or op name may hold lone surrogates, which JSON allows
    # but UTF-8 (a text frame) does not.
    return json.dumps(obj, separators=(",", ":"))


def text_frame(text: str) -> bytes:
    """One complete, unmasked RFC 6455 text frame (what a server sends)."""
    payload = text.encode("utf-8")
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", 0x81, length)
    elif length < 1 << 16:
        header = struct.pack("!BBH", 0x81, 126, length)
    else:
        header = struct.pack("!BBQ", 0x81, 127, length)
    return header + payload


def close_reason(error: AppError) -> str:
    """``code: message``, cut to what fits in a close frame without splitting a character."""
    return f"{error.code}: {error.message}".encode()[:MAX_REASON].decode("utf-8", "ignore")


def close_code(error: AppError) -> int:
    return TRY_AGAIN_LATER if error.code == "unavailable" else POLICY

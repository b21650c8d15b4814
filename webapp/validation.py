"""Checks for the fields clients send; each failure is an ``InvalidPayload`` with a clear message."""
from __future__ import annotations

import re
from typing import Any

from webapp.errors import InvalidPayload

NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,32}")
ROOM_RE = re.compile(r"[a-z0-9_-]{1,64}")
CLIENT_ID_RE = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
MAX_TEXT = 4000
MAX_ID = 2**63 - 1  # ids are 64-bit in PostgreSQL; anything larger cannot name a message


def payload(data: Any) -> dict:
    if not isinstance(data, dict):
        raise InvalidPayload("The payload must be a JSON object.")
    return data


def nickname(value: Any) -> str:
    if not isinstance(value, str) or not NAME_RE.fullmatch(value):
        raise InvalidPayload(
            "A name is 1-32 characters: letters a-z, A-Z, digits, '_' or '-'.", code="invalid_name"
        )
    return value


# Names no person may take, as a guest or an account: operator posts appear under "parley" by
# default (``flask chat post``), and nobody may pose as them.
RESERVED_NAMES = frozenset({"parley"})


def person_name(value: Any) -> str:
    """A nickname a person may take: valid, and not reserved for the server's own posts."""
    name = nickname(value)
    if name.casefold() in RESERVED_NAMES:
        raise InvalidPayload(f"'{name}' is reserved for the server's own posts.",
                             code="name_reserved")
    return name


def room_name(data: dict) -> str:
    value = data.get("room")
    if not isinstance(value, str) or not ROOM_RE.fullmatch(value):
        raise InvalidPayload(
            "A room name is 1-64 characters: lowercase a-z, digits, '_' or '-'.", code="invalid_room"
        )
    return value


def text(data: dict) -> str:
    value = data.get("text")
    if not isinstance(value, str):
        raise InvalidPayload("'text' must be a string.", code="invalid_text")
    stripped = value.strip()
    if not stripped or len(stripped) > MAX_TEXT:
        raise InvalidPayload(f"Text is 1-{MAX_TEXT} characters after trimming.", code="invalid_text")
    if "\x00" in value:
        raise InvalidPayload("Text may not contain NUL characters.", code="invalid_text")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates survive JSON decoding but not storage
        raise InvalidPayload("Text must be valid Unicode.", code="invalid_text") from None
    return value


def client_id(data: dict) -> str | None:
    value = data.get("client_id")
    if value is None:
        return None
    if not isinstance(value, str) or not CLIENT_ID_RE.fullmatch(value):
        raise InvalidPayload(
            "'client_id' is 1-64 characters: letters, digits, '_', '-', '.' or ':'.",
            code="invalid_client_id",
        )
    return value


def flag(data: dict, key: str) -> bool:
    value = data.get(key)
    if not isinstance(value, bool):
        raise InvalidPayload(f"'{key}' must be true or false.")
    return value


def optional_int(data: dict, key: str, low: int, high: int, default: int | None = None) -> int | None:
    value = data.get(key)
    if value is None:
        return default
    # bool is an int in Python; a client sending true means something else entirely.
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidPayload(f"'{key}' must be an integer from {low} to {high}.")
    return value


PROTOCOL_LATEST = 2  # the newest event protocol (docs/protocol.md, Versions)


def protocol(auth: Any) -> int:
    """The event protocol a connection declares in its auth (``{"protocol": 2}``); 1 without.

    A client newer than this server may declare a later version: it is served the latest.
    """
    value = auth.get("protocol", 1) if isinstance(auth, dict) else 1
    if isinstance(value, str) and value.isdigit():  # from a /ws query string
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidPayload("'protocol' must be a positive integer (1 or 2).",
                             code="invalid_protocol")
    return min(value, PROTOCOL_LATEST)

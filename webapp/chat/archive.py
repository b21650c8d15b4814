"""Archived rooms are read-only: what is in them stays readable, nothing new goes in.

Posting is the hottest path there is, so it asks a per-process set of archived room ids instead
of the database: the set is read again at most every ``RECHECK`` seconds (one small query), and
at once in the process that archives or restores a room. Another process therefore refuses
posts to a room at most ``RECHECK`` seconds after it was archived.
"""
from __future__ import annotations

import time

from flask import current_app
from sqlalchemy import select

from webapp.errors import AppError
from webapp.extensions import db
from webapp.models import Room

RECHECK = 2.0  # seconds


def archived_ids() -> frozenset[int]:
    """The ids of archived rooms, as this process last read them."""
    cache = current_app.extensions.setdefault("parley.archived", {"at": -RECHECK, "ids": frozenset()})
    now = time.monotonic()
    if now - cache["at"] >= RECHECK:
        ids = db.session.scalars(select(Room.id).where(Room.archived_at.is_not(None)))
        cache.update(at=now, ids=frozenset(ids))
    return cache["ids"]


def forget() -> None:
    """Read the set again on the next check (this process just archived or restored a room)."""
    current_app.extensions.pop("parley.archived", None)


def check_writable(room_id: int) -> None:
    """Refuse a change to an archived room (``room_archived``)."""
    if room_id in archived_ids():
        raise AppError("This room is archived: it can be read, not written to.",
                       code="room_archived", status=403)

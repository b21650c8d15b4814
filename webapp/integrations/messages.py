"""Messages that are more than text: ``/me`` actions and what integrations post (``bot``).

Their marks live in ``messages.meta`` and are merged into the message object (docs/protocol.md,
"The message object"). They are rare, so they skip the group commit (whose rows carry the plain
columns only) and are stored like a reply: the room's seq taken, the row added, one commit.
"""
from __future__ import annotations

import json

from webapp.chat import broadcast, changes, service
from webapp.chat.folding import fold
from webapp.extensions import db
from webapp.models import Message, utcnow


def post(room: str, author: str, text: str, meta: dict, *, guest: bool = False,
         user_id: int | None = None, client_id: str | None = None) -> dict:
    """Store a message with ``meta`` marks in ``room`` and announce it; answers it."""
    room_id = service.room_id(room)
    seq = changes.take_seq(room_id)
    message = Message(room_id=room_id, author=author, guest=guest, user_id=user_id, text=text,
                      search_text=fold(text), client_id=client_id, created_at=utcnow(), seq=seq,
                      meta=json.dumps(meta, separators=(",", ":")))
    db.session.add(message)
    db.session.commit()
    shown = service.render([message], room)[0]
    broadcast.message(shown)
    return shown

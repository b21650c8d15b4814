"""Messages that are more than text: ``/me`` actions and what integrations post (``bot``).

Their marks live in ``messages.meta`` and are merged into the message object (docs/protocol.md,
"The message object"). They are rare, so they skip the group commit (whose rows carry the plain
columns only) and are stored like a reply: the room's seq taken, the row added, one commit. Like
any message they count as unread from their posting seq and store whom they mention (a CI bot's
"@alice, the build broke" reaches Alice); @room / @here only from those allowed to, which a bot,
being no account, is not.
"""
from __future__ import annotations

import json

from webapp.chat import broadcast, changes, mentions, service
from webapp.chat.folding import fold
from webapp.extensions import db
from webapp.models import Message, Room, utcnow


def post(room: str, author: str, text: str, meta: dict, *, guest: bool = False,
         user_id: int | None = None, client_id: str | None = None) -> dict:
    """Store a message with ``meta`` marks in ``room`` and announce it; answers it."""
    room_id = service.room_id(room)
    seq = changes.take_seq(room_id)
    message = Message(room_id=room_id, author=author, guest=guest, user_id=user_id, text=text,
                      search_text=fold(text), client_id=client_id, created_at=utcnow(), seq=seq,
                      posted_seq=seq, meta=json.dumps(meta, separators=(",", ":")))
    db.session.add(message)
    if mentions.may_mention(text):
        poster = service.Member(sid="", name=author, guest=guest, user_id=user_id)
        mentions.record(poster, message, db.session.get(Room, room_id))
    db.session.commit()
    shown = service.render([message], room)[0]
    broadcast.message(shown)
    return shown

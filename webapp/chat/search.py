"""Full-text search over the messages a caller may read today, the same on SQLite and PostgreSQL.

**Matching.** A message's text is stored a second time *folded* (``messages.search_text``):
compatibility-decomposed (NFKD), accents dropped, case folded, runs of white space made one
space. A query is folded the same way and split into terms -- words, and ``"exact phrases"`` --
and a message matches when its folded text contains every term, anywhere: words in any order,
parts of words (``deploy`` finds "redeployed"), phrases as written, any case or accent, any
script (CJK text has no spaces between words, and a substring match needs none).

**Index.** "Contains" is ``LIKE '%term%'``, which both databases answer from a trigram index:
SQLite's FTS5 ``trigram`` tokenizer (table ``messages_search``, written in batches just behind
the messages and brought up to date before each search: webapp/chat/search_index.py) and PostgreSQL's
``pg_trgm`` GIN index on ``search_text`` (migration 0007). A term shorter than three characters
cannot use a trigram index: it is checked on the rows the other terms found, or on every row
when it is the only one (slow on a large server: the page asks for three characters).

**Who finds what.** Public rooms, and the private rooms and conversations the caller is a member
of now -- a user removed from a room no longer finds its messages. Deleted messages are never
found (their folded text is emptied with their text); an edited one by its current text only.
"""
from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import column, func, or_, select, table, text

from webapp import validation as v
from webapp.chat import search_index, service
from webapp.chat.folding import fold, highlight
from webapp.chat.service import Member
from webapp.errors import InvalidPayload
from webapp.extensions import db
from webapp.models import Message, Room, RoomMember

LIMIT, LIMIT_MAX = 20, 100
MAX_TERMS = 8
MAX_QUERY = 200
TERMS_RE = re.compile(r'"([^"]*)"|(\S+)')


def terms_of(query: str) -> list[str]:
    """The folded terms of a query: quoted phrases and single words, each once."""
    terms: list[str] = []
    for phrase, word in TERMS_RE.findall(query):
        term = fold(phrase or word)
        if term and term not in terms:
            terms.append(term)
    return terms


# -- searching ---------------------------------------------------------------------------------
def _date(data: dict, key: str) -> datetime | None:
    value = data.get(key)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None:
        raise InvalidPayload(f"'{key}' must be an ISO 8601 date or time, e.g. \"2026-11-30\".")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def search(member: Member, data: Any) -> dict:
    """``search`` (docs/protocol.md): newest first, a page at a time (``cursor``)."""
    service.limit(member, "search")
    data = v.payload(data)
    query = data.get("q")
    if not isinstance(query, str) or not query.strip() or len(query) > MAX_QUERY:
        raise InvalidPayload(f"'q' must be the words to find (at most {MAX_QUERY} characters).")
    terms = terms_of(query)[:MAX_TERMS]
    if not terms:
        raise InvalidPayload("'q' has no words to find.")
    limit = v.optional_int(data, "limit", 1, LIMIT_MAX, default=LIMIT)
    cursor = v.optional_int(data, "cursor", 1, v.MAX_ID)
    before, after = _date(data, "before"), _date(data, "after")

    found = select(Message).where(Message.deleted_at.is_(None))
    if "room" in data:
        room = service.readable_room(member, v.room_name(data))
        found = found.where(Message.room_id == room.id)
    else:
        readable = select(Room.id).where(Room.kind == "public")
        if member.user_id is not None:
            mine = select(RoomMember.room_id).where(RoomMember.user_id == member.user_id)
            readable = select(Room.id).where(or_(Room.kind == "public", Room.id.in_(mine)))
        found = found.where(Message.room_id.in_(readable))
    if data.get("author") is not None:
        found = found.where(Message.author == v.nickname(data["author"]))
    if before is not None:
        found = found.where(Message.created_at < before)
    if after is not None:
        found = found.where(Message.created_at >= after)
    if cursor is not None:
        found = found.where(Message.id < cursor)
    rows = _found(found, terms, limit + 1, cursor)
    more = len(rows) > limit
    rows = rows[:limit]
    names = dict(db.session.execute(
        select(Room.id, Room.name).where(Room.id.in_({m.room_id for m in rows}))).all())
    results = []
    for message in rows:
        shown = service.render([message], names[message.room_id])[0]
        results.append({"message": shown, "highlight": highlight(message.text, terms)})
    return {"ok": True, "results": results, "cursor": rows[-1].id if more else None}


FTS = table("messages_search", column("rowid"))
RECENT = 20_000  # PostgreSQL: how many of the newest messages the first look reads in id order


def _found(found, terms: list[str], count: int, cursor: int | None) -> list[Message]:
    """The first ``count`` matches, newest first.

    On PostgreSQL, in two looks. The trigram index finds *all* the rows that contain a term,
    which for a common word is a large share of the table, and only then can they be sorted
    newest first: 110 ms at a million messages for two common words. So the newest ``RECENT``
    messages are read first in id order (the primary key's range, tested with LIKE: a few ms),
    which is where common terms are found; only when that page is not full does the index
    look at the older ones, where what remains to be found is rare.
    """
    if db.session.get_bind().dialect.name != "postgresql":
        search_index.flush()  # the messages the committer has not indexed yet
        return list(db.session.scalars(_matching(found, terms).limit(count)))
    top = (cursor - 1) if cursor is not None else db.session.scalar(select(func.max(Message.id)))
    if top is None:
        return []
    floor = top - RECENT
    rows = list(db.session.scalars(
        _matching(found.where(Message.id > floor), terms).limit(count)))
    if len(rows) < count and floor > 0:
        rows += db.session.scalars(
            _matching(found.where(Message.id <= floor), terms).limit(count - len(rows)))
    return rows


def _matching(found, terms: list[str]):
    """``found`` narrowed to messages whose folded text contains every term, newest first.

    SQLite: the FTS5 table drives -- ``MATCH`` of every trigram of the terms of three characters
    or more, read newest first, so a page stops after ``limit`` hits; LIKE then checks that each
    candidate holds each term (the index keeps which trigrams a text has, not where:
    ``detail=none``, the least work on every post).
    PostgreSQL: ``LIKE '%term%'`` for each term, which the planner answers from the pg_trgm
    index (or, for very common terms, by walking the newest messages and testing them).
    """
    likes = [Message.search_text.like(_like(term), escape="\\") for term in terms]
    if db.session.get_bind().dialect.name != "sqlite":
        return found.where(*likes).order_by(Message.id.desc())
    indexed = [t for t in terms if len(t) >= 3]
    if not indexed:  # nothing for the index to find: test every message, newest first
        return found.where(*likes).order_by(Message.id.desc())
    trigrams = dict.fromkeys(t[i:i + 3] for t in indexed for i in range(len(t) - 2))
    query = " AND ".join('"' + gram.replace('"', '""') + '"' for gram in trigrams)
    # The index keeps which trigrams a text has, not where (detail=none: a third of the work
    # on every post); LIKE then checks each candidate really holds each term.
    return (found.join(FTS, FTS.c.rowid == Message.id)
            .where(text("messages_search MATCH :fts_query").bindparams(fts_query=query), *likes)
            .order_by(FTS.c.rowid.desc()))

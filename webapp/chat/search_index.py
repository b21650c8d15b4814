"""SQLite's search index (FTS5 ``messages_search``), written in batches just behind the messages.

Indexing a message in its own transaction costs SQLite a new index segment per commit: ~70 us of
a message's ~100 us insert (measured apart: 3,000 single-message commits, 27 us a message
without the index, 100 with it, 38-45 with the index written ten or more messages at a time).
So the index is no longer written by a trigger on every insert (migration 0016): messages up to
``messages_search_mark`` are indexed, those after it wait, and

- the committer (webapp/chat/groupcommit.py) indexes the waiting ones once ``BEHIND`` wait, in a
  greenlet of its own after the batch that made them so (not in any message's ack);
- a search indexes whatever waits before it looks (``flush``): a search finds every message
  stored before it began, as when the trigger wrote the index in the message's transaction.

Edits and deletions keep the index in step through triggers, for the indexed messages only (a
waiting message is indexed later with its text of that moment). Everything here runs on SQLite
only; PostgreSQL's trigram index is maintained by PostgreSQL in the insert.
"""
from __future__ import annotations

import sqlite3
from contextlib import contextmanager

from sqlalchemy import text

from webapp.extensions import db

MARK = "messages_search_mark"  # one row: the highest message id indexed
BEHIND = 32  # messages waiting that make the committer index them

_INDEX = ("INSERT INTO messages_search (rowid, search_text) "
          "SELECT id, search_text FROM messages WHERE id > ? AND id <= ?")


@contextmanager
def _writing(raw: sqlite3.Connection):
    """A transaction on ``raw`` (which must be in none) that takes the write lock first, so no
    other writer comes between its reads and its writes; committed, or rolled back on error."""
    cursor = raw.cursor()
    try:
        cursor.execute("BEGIN IMMEDIATE")
        yield cursor
        cursor.execute("COMMIT")
    except BaseException:
        if raw.in_transaction:
            raw.rollback()
        raise
    finally:
        cursor.close()


def flush_raw(raw: sqlite3.Connection) -> int:
    """Index every message not yet indexed, in one transaction on ``raw`` (which must be in
    none); answers the new mark. When nothing waits (most searches), no write lock is taken."""
    mark, top = _mark_and_top(raw)
    if top <= mark:
        return mark
    with _writing(raw) as cursor:
        mark, top = _mark_and_top(cursor)  # again, under the lock: another may have indexed
        if top > mark:
            cursor.execute(_INDEX, (mark, top))
            cursor.execute(f"UPDATE {MARK} SET id = ?", (top,))
    return max(top, mark)


def _mark_and_top(db_api) -> tuple[int, int]:
    """The mark and the newest message's id (either of a connection or of a cursor)."""
    (mark,) = db_api.execute(f"SELECT id FROM {MARK}").fetchone()
    return mark, db_api.execute("SELECT max(id) FROM messages").fetchone()[0] or 0


def mark_raw(raw: sqlite3.Connection) -> int:
    return raw.execute(f"SELECT id FROM {MARK}").fetchone()[0]


def flush() -> None:
    """Before a search (SQLite): index what waits, on the session's connection."""
    connection = db.session.connection()
    if connection.dialect.name != "sqlite":
        return
    raw = connection.connection.dbapi_connection
    if not raw.in_transaction:  # a search writes nothing before it looks (its session never has)
        flush_raw(raw)


def rebuild() -> str:
    """Build the search index again from the messages (``flask --app wsgi chat reindex``): for an
    index in doubt (a database file copied while it was written, messages changed by hand).
    SQLite: FTS5's ``rebuild`` and the mark at the newest message, in one transaction.
    PostgreSQL: ``REINDEX`` of the trigram index (writes to messages wait while it runs)."""
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        db.session.commit()
        with _writing(db.session.connection().connection.dbapi_connection) as cursor:
            cursor.execute("INSERT INTO messages_search(messages_search) VALUES ('rebuild')")
            cursor.execute(f"UPDATE {MARK} SET id = (SELECT coalesce(max(id), 0) FROM messages)")
        return "rebuilt the FTS5 index messages_search"
    db.session.execute(text("REINDEX INDEX messages_search_trgm"))
    db.session.commit()
    return "rebuilt the trigram index messages_search_trgm"

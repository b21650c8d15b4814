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

from webapp.extensions import db

MARK = "messages_search_mark"  # one row: the highest message id indexed
BEHIND = 32  # messages waiting that make the committer index them

_INDEX = ("INSERT INTO messages_search (rowid, search_text) "
          "SELECT id, search_text FROM messages WHERE id > ? AND id <= ?")


def flush_raw(raw: sqlite3.Connection) -> int:
    """Index every message not yet indexed, in one transaction on ``raw`` (which must be in
    none); answers the new mark."""
    cursor = raw.cursor()
    try:
        cursor.execute("BEGIN IMMEDIATE")  # the write lock first: no other writer in between
        (mark,) = cursor.execute(f"SELECT id FROM {MARK}").fetchone()
        top = cursor.execute("SELECT max(id) FROM messages").fetchone()[0] or 0
        if top > mark:
            cursor.execute(_INDEX, (mark, top))
            cursor.execute(f"UPDATE {MARK} SET id = ?", (top,))
        cursor.execute("COMMIT")
        return max(top, mark)
    except BaseException:
        if raw.in_transaction:
            raw.rollback()
        raise
    finally:
        cursor.close()


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

"""Group commit: messages that arrive while a commit is in flight share the next transaction.

With PostgreSQL a commit waits for the write-ahead log to reach the disk; under load that wait,
not the CPU, caps the message rate. The first message to arrive commits at once (no added
latency when idle); messages arriving meanwhile queue up, and the same greenlet commits them
all in one transaction as soon as its commit returns. Each message is still acked and broadcast
only after the commit that stored it. SQLite commits do not yield to other greenlets, so there
batches stay small and nothing changes.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError

from webapp.extensions import db
from webapp.models import Message


@dataclass
class _Entry:
    fields: dict  # the Message's columns; the row itself is built by whoever commits it
    done: threading.Event = field(default_factory=threading.Event)
    message: Message | None = None  # set once stored; None: the (author, client_id) was taken
    error: BaseException | None = None


class GroupCommitter:
    """Commits ``Message`` rows for many greenlets (or threads), a batch at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[_Entry] = []
        self._committing = False

    def store(self, **fields) -> Message | None:
        """Commit a message; answers the stored row, or None if (author, client_id) existed."""
        entry = _Entry(fields)
        with self._lock:
            self._pending.append(entry)
            leader = not self._committing
            self._committing = True
        if leader:
            self._drain()
        entry.done.wait()
        if entry.error is not None:
            raise entry.error
        return entry.message

    def _drain(self) -> None:
        try:
            while True:
                with self._lock:
                    batch, self._pending = self._pending, []
                    if not batch:
                        self._committing = False
                        return
                self._commit(batch)
        except BaseException:  # never leave the others waiting on a leader that is gone
            with self._lock:
                self._committing = False
            raise

    def _commit(self, batch: list[_Entry]) -> None:
        try:
            rows = [Message(**entry.fields) for entry in batch]
            db.session.add_all(rows)
            db.session.commit()
            for entry, row in zip(batch, rows, strict=True):
                entry.message = _detached(row)
        except IntegrityError:
            db.session.rollback()
            self._commit_one_by_one(batch)
        except BaseException as exc:  # a failed batch fails its messages, not the leader alone
            db.session.rollback()
            for entry in batch:
                entry.error = exc
        finally:
            for entry in batch:
                entry.done.set()

    def _commit_one_by_one(self, batch: list[_Entry]) -> None:
        """A duplicate spoiled the batch: find out which, storing the others."""
        for entry in batch:
            row = Message(**entry.fields)
            db.session.add(row)
            try:
                db.session.commit()
                entry.message = _detached(row)
            except IntegrityError:
                db.session.rollback()


def _detached(row: Message) -> Message:
    """Hand a committed row over detached: its writer reads it while this session moves on (a
    later rollback here would otherwise expire it under the reader)."""
    db.session.expunge(row)
    return row

"""Group commit: messages that arrive while a commit is in flight share the next one.

With PostgreSQL a commit waits for the write-ahead log to reach the disk; under load that wait,
not the CPU, caps the message rate. The first message to arrive is stored at once (no added
latency when idle); messages arriving meanwhile queue up, and the same greenlet stores them all
in one statement as soon as its own returns. Each message is still acked and broadcast only
after the statement that stored it has committed.

Every batch is one transaction on a connection of the committer's own (no ORM unit of work, no
pool liveness ping), from a pool of its own: events waiting for their message to be stored hold
connections of the shared pool, and if they held them all, a committer that had to wait for one
would wait for them while they wait for it (seen: ten clients posting at once, pool 5 + 5, every
event failing after DB_POOL_TIMEOUT). For each room in it, ``UPDATE rooms SET seq = seq + n ... RETURNING seq``
takes the room's next n change numbers (webapp/chat/changes.py, "seq") and holds the room's row
until the commit, then one ``INSERT`` stores the batch with them. Rooms are taken in id order,
so two processes' batches never wait on each other in a circle. A lone message uses ``ON
CONFLICT DO NOTHING``: a client's retry of a stored ``(author, client_id)`` inserts no row, and
its transaction is rolled back so the seq it took is given back (no gap); a batch that hits such
a retry is stored again one message at a time.

On PostgreSQL, where each statement is a round trip, a room's part of the batch is one statement
instead (``_pg_statement``: lock and read the room's seq, insert, move the seq; autocommit), so a
message still costs one round trip, as before the change log.

On SQLite the same statements go straight to the driver (``_SQLite``): SQLAlchemy's Core costs
~30 us a statement (building the execution context, processing the result), which was over a
third of a message's insert; the types are converted by the columns' own bind processors, the
driver's errors wrapped as SQLAlchemy's, and the database latency observed as for any query.
The search index follows a few messages behind (webapp/chat/search_index.py): once ``BEHIND``
wait, a greenlet of the committer's writes them in one transaction, outside any message's ack.
"""
from __future__ import annotations

import logging
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import groupby
from types import SimpleNamespace

from sqlalchemy import bindparam, insert, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.pool import StaticPool

from webapp import metrics
from webapp.chat import search_index
from webapp.extensions import db, socketio
from webapp.models import Message, utcnow

log = logging.getLogger(__name__)

MAX_BATCH = 500  # rows per statement: SQLite allows 32,766 bound parameters, ten per row here
# The columns a new message is stored with; the rest take their defaults (webapp/models.py).
COLUMNS = ("room_id", "author", "guest", "user_id", "text", "search_text", "client_id",
           "created_at", "seq", "posted_seq", "reply_to")
# Taken in the statement (a room's next seqs), not given by the caller: a message is posted
# with its first seq (``posted_seq``, read positions count on it) and ``seq`` moves on later.
TAKEN = ("seq", "posted_seq")

# The room's next n change numbers; its row stays locked until the transaction ends.
TAKE_SEQ = text("UPDATE rooms SET seq = seq + :n WHERE id = :room_id RETURNING seq")


def _insert_one_statement():
    """``INSERT ... ON CONFLICT (author, client_id) DO NOTHING RETURNING id``, in the syntax
    SQLite (3.35+) and PostgreSQL share. Written as text because SQLAlchemy does not cache the
    compiled form of its dialects' ``on_conflict_do_nothing`` (a compile per message: ~0.2 ms)."""
    columns = [Message.__table__.c[name] for name in COLUMNS]
    names = ", ".join(c.name for c in columns)
    values = ", ".join(f":{c.name}" for c in columns)
    return text(
        f"INSERT INTO {Message.__tablename__} ({names}) VALUES ({values}) "
        "ON CONFLICT (author, client_id) DO NOTHING RETURNING id"
    ).bindparams(*(bindparam(c.name, type_=c.type) for c in columns))


_INSERT_ONE = _insert_one_statement()

# PostgreSQL (see GroupCommitter._insert_postgresql): the room's row is locked and read (``r``),
# the rows inserted with the seqs after it (``ins``), and the room's seq moved to the last one
# inserted (``upd``) -- only if a row was inserted, so a retry (its author and client_id stored,
# even by a send racing it) takes no seq: no gaps. FOR UPDATE waits for the room's previous
# change to commit and then reads its seq, so a room's changes commit in seq order.
def _pg_statement(values: str, on_conflict: str = "") -> str:
    given = [c for c in COLUMNS if c not in TAKEN]
    return (
        "WITH r AS (SELECT seq FROM rooms WHERE id = :room_id FOR UPDATE), "
        f"ins AS (INSERT INTO messages ({', '.join(given)}, seq, posted_seq) "
        f"SELECT {', '.join('v.' + c for c in given)}, r.seq + 1 + v.ord, r.seq + 1 + v.ord "
        f"FROM r, (VALUES {values}) AS v({', '.join(given)}, ord) {on_conflict}"
        "RETURNING id, seq), "
        "upd AS (UPDATE rooms SET seq = (SELECT max(seq) FROM ins) "
        "WHERE id = :room_id AND EXISTS (SELECT 1 FROM ins)) "
        "SELECT id, seq FROM ins"
    )


_PG_TYPES = {"room_id": "INTEGER", "author": "VARCHAR", "guest": "BOOLEAN", "user_id": "INTEGER",
             "text": "TEXT", "search_text": "TEXT", "client_id": "VARCHAR", "created_at": "TIMESTAMPTZ",
             "reply_to": "BIGINT"}
_pg_batches: dict[int, object] = {}


def _pg_values(n: int) -> str:
    given = [c for c in COLUMNS if c not in TAKEN]
    return ", ".join(
        "(" + ", ".join(f"CAST(:{c}_{i} AS {_PG_TYPES[c]})" for c in given) + f", {i})"
        for i in range(n))


def _pg_batch(n: int):
    """n messages of one room (``_pg_params``): one statement."""
    if n not in _pg_batches:
        _pg_batches[n] = text(_pg_statement(_pg_values(n)))
    return _pg_batches[n]


# One message, whose (author, client_id) may be stored already: then nothing happens.
_PG_ONE = text(_pg_statement(_pg_values(1), "ON CONFLICT (author, client_id) DO NOTHING "))


def _pg_params(entries: list[_Entry]) -> dict:
    params = {"room_id": entries[0].fields["room_id"]}
    for i, entry in enumerate(entries):
        params.update({f"{c}_{i}": entry.fields[c] for c in COLUMNS if c not in TAKEN})
    return params


class StoredMessage(SimpleNamespace):
    """A message just stored: its columns, without an ORM instance's bookkeeping (~25 us)."""

    edited_at = pinned_at = mentions_all = None
    reply_count = 0
    to_dict = Message.to_dict


@dataclass
class _Entry:
    fields: dict  # the Message's COLUMNS but created_at and the TAKEN ones
    done: threading.Event = field(default_factory=threading.Event)
    message: StoredMessage | None = None  # set once stored; None: the (author, client_id) was taken
    error: BaseException | None = None


class GroupCommitter:
    """Stores ``messages`` rows for many greenlets (or threads), a batch at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[_Entry] = []
        self._committing = False
        self._conn: Connection | None = None  # used by the one leader of the moment only
        self._engine: Engine | None = None  # db.engine's dialect and settings, its own pool
        self._indexing = False  # an _index is on its way
        self._index_wanted = False  # the search index is behind: index once the leader is done

    def store(self, **fields) -> StoredMessage | None:
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
                    batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                    if not batch:
                        self._committing = False
                        index, self._index_wanted = self._index_wanted, False
                if not batch:
                    if index:
                        self._index_later()
                    return
                self._commit(batch)
        except BaseException:  # never leave the others waiting on a leader that is gone
            with self._lock:
                self._committing = False
            raise

    def _commit(self, batch: list[_Entry]) -> None:
        try:
            now = utcnow()
            for entry in batch:
                entry.fields["created_at"] = now
            try:
                ids = self._insert(batch)
            except DBAPIError as exc:
                if not exc.connection_invalidated:
                    raise
                # The database dropped our idle connection (a restart, a failover): the
                # statement failed to reach it, so once more on a new connection.
                self._close()
                ids = self._insert(batch)
            for entry, row_id in zip(batch, ids, strict=True):
                if isinstance(row_id, BaseException):
                    entry.error = row_id
                elif row_id is not None:
                    entry.message = StoredMessage(id=row_id, **entry.fields)
        except BaseException as exc:  # noqa: BLE001 - a failed batch fails its messages, not the leader alone
            for entry in batch:
                entry.error = exc
        finally:
            for entry in batch:
                entry.done.set()

    def _insert(self, batch: list[_Entry]) -> list:
        """Each entry's new id, None for a taken (author, client_id), or the error it caused."""
        conn = self._connection()
        if conn.dialect.name == "postgresql":
            return self._insert_postgresql(conn, batch)
        if conn.dialect.name == "sqlite":
            sqlite = _SQLite.of(conn)
            ids = sqlite.insert(batch)
            if sqlite.behind() >= search_index.BEHIND:
                self._index_wanted = True  # once this leader lets the connection go
            return ids
        if len(batch) > 1:
            try:
                with conn.begin():
                    self._take_seqs(conn, batch)
                    # One statement, so all or nothing; ids are drawn in VALUES order, whatever
                    # order RETURNING hands them back in.
                    table = Message.__table__
                    stmt = insert(table).values([e.fields for e in batch]).returning(table.c.id)
                    return sorted(conn.execute(stmt).scalars())
            except IntegrityError:
                pass  # a retry (or a deleted room) among them: find out which, storing the rest
        return [self._insert_one(conn, entry) for entry in batch]

    @staticmethod
    def _take_seqs(conn: Connection, batch: list[_Entry]) -> None:
        """Give each entry its room's next seq, in batch order within a room."""
        by_room = sorted(batch, key=lambda e: e.fields["room_id"])  # a stable sort
        for room_id, group in groupby(by_room, key=lambda e: e.fields["room_id"]):
            entries = list(group)
            last = conn.execute(TAKE_SEQ, {"n": len(entries), "room_id": room_id}).scalar()
            if last is None:  # no such room (deleted meanwhile): the insert fails on its key
                last = 0
            for offset, entry in enumerate(entries):
                entry.fields["seq"] = entry.fields["posted_seq"] = last - len(entries) + 1 + offset

    @classmethod
    def _insert_one(cls, conn: Connection, entry: _Entry):
        try:
            with conn.begin() as transaction:
                cls._take_seqs(conn, [entry])
                row_id = conn.execute(_INSERT_ONE, entry.fields).scalar()
                if row_id is None:
                    transaction.rollback()  # a retry: give the seq back
                return row_id
        except IntegrityError as exc:  # a room deleted meanwhile: this message fails alone
            return exc

    # -- PostgreSQL: one statement per room, one round trip ------------------------------------
    def _insert_postgresql(self, conn: Connection, batch: list[_Entry]) -> list:
        """PostgreSQL runs a data-modifying WITH: the seq's UPDATE and the INSERT are one
        statement, in autocommit its own transaction, holding the room's row lock to its commit
        -- one round trip (BEGIN, UPDATE, INSERT and COMMIT would be four: +0.25 ms an ack)."""
        found: dict[int, object] = {}
        by_room = sorted(batch, key=lambda e: e.fields["room_id"])
        for _, group in groupby(by_room, key=lambda e: e.fields["room_id"]):
            entries = list(group)
            if len(entries) > 1:
                try:
                    rows = conn.execute(_pg_batch(len(entries)), _pg_params(entries)).all()
                except IntegrityError:
                    rows = None  # a retry among them: one at a time
                if rows is not None:
                    first = min(seq for _, seq in rows)
                    for row_id, seq in rows:  # RETURNING's order is not VALUES' order
                        entries[seq - first].fields["seq"] = entries[seq - first].fields["posted_seq"] = seq
                        found[id(entries[seq - first])] = row_id
                    continue
            for entry in entries:
                try:
                    row = conn.execute(_PG_ONE, _pg_params([entry])).first()
                except IntegrityError as exc:  # a room deleted meanwhile
                    found[id(entry)] = exc
                    continue
                if row is not None:
                    entry.fields["seq"] = entry.fields["posted_seq"] = row.seq
                found[id(entry)] = row.id if row is not None else None
        return [found[id(entry)] for entry in batch]

    # -- SQLite's search index, a few messages behind ----------------------------------------
    def _index_later(self) -> None:
        """Index the waiting messages in a greenlet (a thread without eventlet) of their own:
        after the batch that made them enough, not in its messages' acks."""
        with self._lock:
            if self._indexing:
                return
            self._indexing = True
        socketio.start_background_task(self._index)

    def _index(self) -> None:
        with self._lock:
            self._indexing = False
            if self._committing:  # a batch is being stored: its leader asks again as it ends
                self._index_wanted = True
                return
            self._committing = True  # the connection is ours until _drain lets it go
        try:
            sqlite = _SQLite.of(self._connection())
            sqlite.mark = search_index.flush_raw(sqlite.raw)
        except Exception:  # a search indexes what waits; the next batch tries again
            log.warning("indexing messages for search failed", exc_info=True)
        finally:
            self._drain()  # store what queued meanwhile, then give the connection up

    def _connection(self) -> Connection:
        if self._conn is None or self._conn.closed or self._conn.invalidated:
            self._close()
            self._conn = self._own_engine().connect()
            if self._conn.dialect.name == "postgresql":  # each statement its own transaction
                self._conn = self._conn.execution_options(isolation_level="AUTOCOMMIT")
        return self._conn

    def _own_engine(self) -> Engine:
        """``db.engine`` on a pool of its own: same connection settings and event hooks (the
        pool's copy keeps them), never waiting for a connection an event holds."""
        if self._engine is None:
            shared = db.engine
            if isinstance(shared.pool, StaticPool):  # one in-memory database: its one connection
                self._engine = shared
            else:
                self._engine = Engine(shared.pool.recreate(), shared.dialect, shared.url)
        return self._engine

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except DBAPIError:  # already broken; the pool discards it
                pass


# -- SQLite: the driver's own calls ------------------------------------------------------------
class _SQLite:
    """The committer's SQLite statements on the DBAPI connection (sqlite3): the same transactions
    as through SQLAlchemy -- the driver begins one before the first UPDATE or INSERT; ``commit``
    or ``rollback`` ends it -- without SQLAlchemy's ~30 us a statement."""

    TAKE_SEQ = "UPDATE rooms SET seq = seq + ? WHERE id = ? RETURNING seq"
    GIVEN = tuple(c for c in COLUMNS if c not in TAKEN)

    def __init__(self, conn: Connection) -> None:
        self.raw: sqlite3.Connection = conn.connection.dbapi_connection
        table = Message.__table__
        self.processors = [(name, table.c[name].type.bind_processor(conn.dialect))
                           for name in COLUMNS]
        names = ", ".join(COLUMNS)
        self.one = (f"INSERT INTO {table.name} ({names}) VALUES ({', '.join('?' * len(COLUMNS))}) "
                    "ON CONFLICT (author, client_id) DO NOTHING RETURNING id")
        self.many: dict[int, str] = {}
        self.top = 0  # the highest id this connection stored
        self.mark: int | None = None  # the search index's mark, as last read or written

    def behind(self) -> int:
        """How many of the messages this connection stored wait for the search index (about:
        another process may have indexed them)."""
        if self.mark is None:
            self.mark = search_index.mark_raw(self.raw)
        return self.top - self.mark

    @classmethod
    def of(cls, conn: Connection) -> _SQLite:
        """The driver calls for ``conn``, made once per connection."""
        found = conn.info.get("parley_sqlite")
        if found is None or found.raw is not conn.connection.dbapi_connection:
            found = conn.info["parley_sqlite"] = cls(conn)
        return found

    def row(self, entry: _Entry) -> tuple:
        fields = entry.fields
        return tuple(fields[name] if process is None else process(fields[name])
                     for name, process in self.processors)

    def insert(self, batch: list[_Entry]) -> list:
        """As ``GroupCommitter._insert``: each entry's new id, None for a taken (author,
        client_id), or the error it caused."""
        if len(batch) > 1:
            try:
                return self._insert_many(batch)
            except IntegrityError:
                pass  # a retry (or a deleted room) among them: one at a time, below
        return [self._insert_one(entry) for entry in batch]

    @staticmethod
    def _execute(cursor: sqlite3.Cursor, statement: str, params) -> list:
        """Run a statement and fetch its rows, observed as every query is (webapp/metrics.py)."""
        started = time.perf_counter()
        try:
            return cursor.execute(statement, params).fetchall()
        finally:
            metrics.DATABASE.observe(time.perf_counter() - started)

    def _insert_many(self, batch: list[_Entry]) -> list:
        """One transaction: the rooms' seqs, then every row in one statement (all or nothing)."""
        statement = self.many.get(len(batch))
        if statement is None:
            rows = ", ".join(["(" + ", ".join("?" * len(COLUMNS)) + ")"] * len(batch))
            statement = self.many[len(batch)] = (
                f"INSERT INTO {Message.__tablename__} ({', '.join(COLUMNS)}) VALUES {rows} "
                "RETURNING id")
        with self._transaction(statement) as cursor:
            self._take_seqs(cursor, batch)
            values = [value for entry in batch for value in self.row(entry)]
            # ids are drawn in VALUES order, whatever order RETURNING hands them back in
            ids = sorted(row_id for (row_id,) in self._execute(cursor, statement, values))
        self.top = max(self.top, ids[-1])
        return ids

    def _insert_one(self, entry: _Entry):
        try:
            with self._transaction(self.one) as cursor:
                self._take_seqs(cursor, [entry])
                found = self._execute(cursor, self.one, self.row(entry))
                if not found:
                    self.raw.rollback()  # a retry: give the seq back
                    return None
            self.top = max(self.top, found[0][0])
            return found[0][0]
        except IntegrityError as exc:  # a room deleted meanwhile: this message fails alone
            return exc

    def _take_seqs(self, cursor: sqlite3.Cursor, batch: list[_Entry]) -> None:
        """Give each entry its room's next seq, in batch order within a room."""
        by_room = sorted(batch, key=lambda e: e.fields["room_id"])  # a stable sort
        for room_id, group in groupby(by_room, key=lambda e: e.fields["room_id"]):
            entries = list(group)
            found = self._execute(cursor, self.TAKE_SEQ, (len(entries), room_id))
            last = found[0][0] if found else 0  # no such room: the insert fails on its key
            for offset, entry in enumerate(entries):
                entry.fields["seq"] = entry.fields["posted_seq"] = last - len(entries) + 1 + offset

    @contextmanager
    def _transaction(self, statement: str):
        """Commit what the block did, or roll it back; the driver's errors as SQLAlchemy's."""
        cursor = self.raw.cursor()
        try:
            yield cursor
            if self.raw.in_transaction:
                self.raw.commit()
        except sqlite3.Error as exc:
            self._rollback()
            raise DBAPIError.instance(statement, None, exc, sqlite3.Error) from exc
        except BaseException:
            self._rollback()
            raise
        finally:
            cursor.close()

    def _rollback(self) -> None:
        try:
            self.raw.rollback()
        except sqlite3.Error:  # the connection is unusable; the next statement says so
            pass

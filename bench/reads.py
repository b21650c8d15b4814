"""Read state at scale: ``python -m bench reads [--messages 1000000] [--no-postgres]``.

Fills a database of its own (a SQLite file, and a PostgreSQL database created for the run and
dropped after it) with a user in 20 rooms: 19 of 200 messages and one of ``--messages``, with
mentions of the user here and there. Then times, as that user, the ``rooms`` operation (the page
of rooms with each one's ``unread``, ``mentions`` and ``last_read``) and the ``join`` answer of
the big room, twice: never read (the count stops at the cap) and read up to the last 100
messages. Medians and 99th percentiles of the operation's call (the database's work and the
shaping of the answer; the socket round trip is the ack scenario's).
"""
from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from bench.databases import drop_postgres, fresh_postgres
from bench.databases import main as command_line

SMALL_ROOMS, SMALL_SIZE = 19, 200
MENTION_EVERY = 500  # one message in 500 mentions the reader
REPEATS = 40
CHUNK = 100_000


def fill(app, count: int) -> float:
    """The reader, 20 rooms, their messages (posted_seq = seq) and the reader's mentions."""
    from webapp import accounts
    from webapp.extensions import db
    from webapp.models import utcnow

    started = time.perf_counter()
    with app.app_context():
        reader = accounts.create_user("reader", "bench password 123").id
        sizes = {"big": count, **{f"small{i}": SMALL_SIZE for i in range(SMALL_ROOMS)}}
        for name, size in sizes.items():
            room_id = db.session.execute(text(
                "INSERT INTO rooms (name, kind, created_at, seq, compacted_seq) "
                "VALUES (:n, 'public', :t, :s, 0) RETURNING id"),
                {"n": name, "t": utcnow(), "s": size}).scalar()
            db.session.execute(text(
                "INSERT INTO room_reads (user_id, room_id, last_read_seq, updated_at) "
                "VALUES (:u, :r, 0, :t)"), {"u": reader, "r": room_id, "t": utcnow()})
            _messages(db, room_id, size, reader)
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    return time.perf_counter() - started


def _messages(db, room_id: int, size: int, reader: int) -> None:
    """``size`` messages in one set-based statement per 100,000 (a row at a time from Python
    would take the bench's whole budget on PostgreSQL), then the reader's mentions."""
    from webapp.models import utcnow

    for first in range(1, size + 1, CHUNK):
        last = min(size, first + CHUNK - 1)
        db.session.execute(text(
            "WITH RECURSIVE n(i) AS (SELECT CAST(:first AS BIGINT) UNION ALL "
            "SELECT i + 1 FROM n WHERE i < :last) "
            "INSERT INTO messages (room_id, author, guest, text, search_text, created_at, seq, "
            "posted_seq) SELECT :room_id, 'user' || (i % 300), true, 'message ' || i, '', :now, "
            "i, i FROM n"), {"first": first, "last": last, "room_id": room_id, "now": utcnow()})
        db.session.commit()
    db.session.execute(text(
        "INSERT INTO mentions (message_id, user_id, room_id, posted_seq, via) "
        "SELECT id, :u, room_id, posted_seq, 'name' FROM messages WHERE room_id = :r "
        "AND posted_seq % :every = 0"), {"u": reader, "r": room_id, "every": MENTION_EVERY})
    db.session.commit()


def timed(app, last_read: int | None) -> dict:
    """p50/p99 of ``rooms`` and of the big room's ``join``, the reader at ``last_read`` there."""
    from webapp import accounts
    from webapp.chat import ops, service
    from webapp.extensions import db

    class Conn:
        sid = "bench"

        def subscribe(self, room):
            pass

        def unsubscribe(self, room):
            pass

    samples: dict[str, list[float]] = {"rooms": [], "join": []}
    with app.app_context():
        if last_read is not None:
            db.session.execute(text("UPDATE room_reads SET last_read_seq = :s WHERE room_id = "
                                    "(SELECT id FROM rooms WHERE name = 'big')"), {"s": last_read})
            db.session.commit()
        member = service.connect(None, None, user=accounts.find_user("reader"))
        member = service.Member(sid="bench", name=member.name, guest=False, user_id=member.user_id)
        for _ in range(REPEATS):
            start = time.perf_counter()
            listed = ops.OPS["rooms"](member, {}, Conn())
            samples["rooms"].append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            joined = ops.OPS["join"](member, {"room": "big"}, Conn())
            samples["join"].append((time.perf_counter() - start) * 1000)
        big = next(r for r in listed["rooms"] if r["name"] == "big")
    result = {"unread": big["unread"], "mentions": big["mentions"], "join_unread": joined["unread"]}
    for name, values in samples.items():
        values.sort()
        result[f"{name}_p50_ms"] = round(statistics.median(values), 2)
        result[f"{name}_p99_ms"] = round(values[min(len(values) - 1, int(len(values) * 0.99))], 2)
    return result


def make_app(url: str):
    from flask_migrate import upgrade

    from webapp import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "ASYNC_MODE": "threading",
                      "LOG_LEVEL": "WARNING", "SECRET_KEY": "bench",
                      "RATE_LIMIT_JOIN": "1000000 per minute",
                      "RATE_LIMIT_READ": "1000000 per minute"})
    with app.app_context():
        upgrade()
    return app


def run(count: int, postgres: bool, sqlite: bool = True) -> dict:
    results = {}
    with tempfile.TemporaryDirectory(prefix="parley-reads-") as folder:
        databases = {"sqlite": f"sqlite:///{Path(folder) / 'reads.sqlite3'}"} if sqlite else {}
        if postgres:
            databases["postgresql"] = fresh_postgres("parley_bench_reads")
        try:
            for name, url in databases.items():
                app = make_app(url)
                seconds = fill(app, count)
                results[name] = {"messages": count, "fill_s": round(seconds, 1),
                                 "never read": timed(app, None),
                                 "read but the last 100": timed(app, count - 100)}
                with app.app_context():
                    from webapp.extensions import db
                    db.engine.dispose()
                print(json.dumps({name: results[name]}, indent=1), flush=True)
        finally:
            if postgres:
                drop_postgres(databases["postgresql"])
    return results


def main(argv: list[str] | None = None) -> int:
    return command_line("python -m bench reads", __doc__, run, argv)


if __name__ == "__main__":
    raise SystemExit(main())

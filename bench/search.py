"""Search at scale: ``python -m bench search [--messages 1000000] [--no-postgres]``.

Fills a database of its own (SQLite, and PostgreSQL's ``test`` database in a schema of its own)
with ``--messages`` messages over 50 rooms -- words drawn from a 5,000-word vocabulary with a
Zipf-like spread, 4-20 words a message, as chat text goes -- through the migrations' own index
(FTS5 triggers; the pg_trgm index), then times ``search`` as a user who may read every room
asks it: two-word queries of common, middling and rare words, a phrase, and a part of a word.
Medians and 99th percentiles of the service call (the database's work and the shaping of the
answer; the socket round trip is the ack scenario's).
"""
from __future__ import annotations

import json
import random
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from bench.databases import fresh_postgres
from bench.databases import main as command_line

ROOMS = 50
VOCABULARY = 5000
QUERIES_EACH = 40
SEED = 7


def words(rng: random.Random) -> list[str]:
    """The vocabulary: pronounceable made-up words, so no query hits by accident."""
    syllables = ["ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "de", "po", "ga", "li", "mo",
                 "ze", "fu", "ha", "ri", "ta", "no", "be"]
    seen: set[str] = set()
    while len(seen) < VOCABULARY:
        seen.add("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))))
    return sorted(seen)


def fill(app, count: int, rng: random.Random, vocab: list[str]) -> float:
    """Insert ``count`` messages (the index kept up by the database as for real posts)."""
    from webapp.chat.folding import fold
    from webapp.extensions import db
    from webapp.models import utcnow

    weights = [1 / (rank + 1) for rank in range(len(vocab))]  # Zipf: a few words everywhere
    started = time.perf_counter()
    with app.app_context():
        for name in (f"room{r}" for r in range(ROOMS)):
            db.session.execute(text("INSERT INTO rooms (name, kind, created_at, seq, "
                                    "compacted_seq) VALUES (:n, 'public', :t, 0, 0)"),
                               {"n": name, "t": utcnow()})
        db.session.commit()
        room_ids = [r for (r,) in db.session.execute(text("SELECT id FROM rooms"))]
        batch, now = [], utcnow()
        for i in range(count):
            body = " ".join(rng.choices(vocab, weights, k=rng.randint(4, 20)))
            batch.append({"room_id": rng.choice(room_ids), "author": f"user{i % 300}",
                          "text": body, "search_text": fold(body), "created_at": now,
                          "seq": i + 1})
            if len(batch) == 5000:
                _insert(db, batch)
                batch = []
        if batch:
            _insert(db, batch)
        if db.engine.dialect.name == "sqlite":  # the index as the server keeps it: up to date
            from webapp.chat import search_index

            search_index.flush()
            db.session.commit()
        # What autovacuum (PostgreSQL) or an operator's ANALYZE (SQLite) would have done since.
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    return time.perf_counter() - started


def _insert(db, batch: list[dict]) -> None:
    db.session.execute(text(
        "INSERT INTO messages (room_id, author, guest, text, search_text, created_at, seq) "
        "VALUES (:room_id, :author, true, :text, :search_text, :created_at, :seq)"), batch)
    db.session.commit()


def timed(app, queries: list[str]) -> dict:
    from webapp.chat import search, service

    samples, hits = [], []
    with app.app_context():
        member = service.Member(sid=None, name="reader", guest=False, user_id=None)
        for query in queries:
            start = time.perf_counter()
            answer = search.search(member, {"q": query, "limit": 20})
            samples.append((time.perf_counter() - start) * 1000)
            hits.append(len(answer["results"]))
    samples.sort()
    return {"p50_ms": round(statistics.median(samples), 2),
            "p99_ms": round(samples[min(len(samples) - 1, int(len(samples) * 0.99))], 2),
            "results_p50": statistics.median(hits)}


def query_sets(rng: random.Random, vocab: list[str]) -> dict[str, list[str]]:
    def pairs(lo: int, hi: int) -> list[str]:
        return [f"{rng.choice(vocab[lo:hi])} {rng.choice(vocab[lo:hi])}" for _ in range(QUERIES_EACH)]
    return {
        "two common words": pairs(0, 50),
        "two middling words": pairs(200, 1000),
        "two rare words": pairs(3000, 5000),
        "a phrase": [f'"{rng.choice(vocab[:100])} {rng.choice(vocab[:100])}"'
                     for _ in range(QUERIES_EACH)],
        "part of a word": [rng.choice(vocab[100:1000])[1:5] for _ in range(QUERIES_EACH)],
    }


def make_app(url: str):
    from flask_migrate import upgrade

    from webapp import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "ASYNC_MODE": "threading",
                      "LOG_LEVEL": "WARNING", "RATE_LIMIT_SEARCH": "1000000 per minute",
                      "SECRET_KEY": "bench"})
    with app.app_context():
        upgrade()
    return app


def run(count: int, postgres: bool, sqlite: bool = True) -> dict:
    rng = random.Random(SEED)
    vocab = words(rng)
    queries = query_sets(rng, vocab)
    results = {}
    with tempfile.TemporaryDirectory(prefix="parley-search-") as folder:
        databases = {"sqlite": f"sqlite:///{Path(folder) / 'search.sqlite3'}"} if sqlite else {}
        if postgres:
            databases["postgresql"] = fresh_postgres("parley_bench_search")
        for name, url in databases.items():
            app = make_app(url)
            seconds = fill(app, count, random.Random(SEED), vocab)
            results[name] = {"messages": count, "fill_s": round(seconds, 1),
                             **{label: timed(app, qs) for label, qs in queries.items()}}
            print(json.dumps({name: results[name]}, indent=1), flush=True)
    return results


def main(argv: list[str] | None = None) -> int:
    return command_line("python -m bench search", __doc__, run, argv)


if __name__ == "__main__":
    raise SystemExit(main())

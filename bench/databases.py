"""PostgreSQL databases of the bench's own, and the command line of the one-database benches.

The machine's ``test`` database is others' to use (the tests make databases of their own too):
every bench that needs PostgreSQL makes a named database of its own here, empty, and may drop it.
"""
from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, text

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def _admin(*statements: str) -> None:
    engine = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")  # no CREATE DATABASE in a transaction
    try:
        with engine.connect() as conn:
            for sql in statements:
                conn.execute(text(sql))
    finally:
        engine.dispose()


def fresh_postgres(name: str) -> str:
    """The URL of database ``name``, made anew (empty); ``name`` is the bench's own."""
    assert name.startswith("parley_bench"), name  # never another's database
    _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name}")
    return ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def drop_postgres(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    assert name.startswith("parley_bench"), name
    _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def main(prog: str, description: str, run: Callable[..., dict], argv: list[str] | None) -> int:
    """``python -m bench reads|search``: ``run(messages, postgres, sqlite)``, JSON to ``--out``."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    results = run(args.messages, not args.no_postgres, not args.no_sqlite)
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")
    return 0

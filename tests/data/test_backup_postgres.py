"""``flask backup`` on PostgreSQL: pg_dump's archive restores with pg_restore into a new database."""
from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from flask_migrate import upgrade
from sqlalchemy import create_engine, func, select

from tests.integration.conftest import PG_ADMIN_URL, admin_sql, require
from webapp.data import backup as backups
from webapp.extensions import db
from webapp.models import Message, Room

pytestmark = pytest.mark.integration
HEAD = ScriptDirectory(str(Path(__file__).parents[2] / "migrations")).get_current_head()


@pytest.fixture
def restored_url():
    name = f"parley_restored_{uuid.uuid4().hex[:10]}"
    admin_sql(f"CREATE DATABASE {name}")
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    admin_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_pg_dump_archive_restores_into_a_new_database(db_app, tmp_path, restored_url):
    # CI must run it (require fails there instead of skipping): pg_dump/pg_restore come with
    # PostgreSQL's client package, which the machine's PostgreSQL brings.
    require(shutil.which("pg_restore") is not None, "the PostgreSQL client tools are not installed")
    upgrade()
    room = Room(name="kept")
    db.session.add(room)
    db.session.flush()
    db.session.add_all(Message(room_id=room.id, author="a", text=f"m{i}") for i in range(5))
    db.session.commit()

    manifest = backups.backup(tmp_path / "backup")
    assert manifest["database"] == "parley.pgdump" and manifest["migration"] == HEAD
    subprocess.run(["pg_restore", "--no-owner", "--dbname", restored_url,
                    str(tmp_path / "backup" / "parley.pgdump")], check=True, capture_output=True)
    engine = create_engine(restored_url)
    try:
        with engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(Message)) == 5
    finally:
        engine.dispose()

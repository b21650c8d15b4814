"""An export from SQLite imports into PostgreSQL (ids kept, sequences moved past them) and
exports again to the same bytes."""
from __future__ import annotations

import pytest
from flask_migrate import upgrade

from tests.data.populate import member, op, populate
from tests.data.test_export import new_app, read_all
from webapp.data import export as exports
from webapp.data import importer

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_sqlite_export_moves_to_postgresql(db_app, tmp_path):
    first = new_app(tmp_path, "first", "directory")
    with first.app_context():
        populate()
        exports.export(tmp_path / "one.zip")
    upgrade()
    importer.import_archive(tmp_path / "one.zip")
    exports.export(tmp_path / "two.zip")
    assert read_all(tmp_path / "one.zip") == read_all(tmp_path / "two.zip")
    dave = member("dave")  # a new user and message get fresh ids from the moved sequences
    page = op("history", dave, room="general")["messages"]
    newer = op("message", dave, room="general", text="on PostgreSQL")["message"]
    assert newer["id"] > max(m["id"] for m in page)

"""Export and import of the whole instance (docs/export.md): export -> import into an empty
instance -> export gives the same bytes, and what is imported works."""
from __future__ import annotations

import json
import zipfile

import pytest
from flask_migrate import upgrade
from sqlalchemy import select

from tests.data.populate import populate
from webapp import accounts, create_app
from webapp.chat import avatars
from webapp.data import export as exports
from webapp.data import importer
from webapp.extensions import db
from webapp.models import Room
from webapp.storage import storage as stored_files


def new_app(tmp_path, name: str, storage: str):
    app = create_app({
        "TESTING": True, "SECRET_KEY": "test-secret", "ASYNC_MODE": "threading",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / name}.sqlite3",
        "FILE_DIR": str(tmp_path / f"{name}-files"), "FILE_STORAGE": storage,
        "LOG_LEVEL": "WARNING", "RATE_LIMIT_CREATE_ROOM": "1000 per hour",
    })
    with app.app_context():
        upgrade()
    return app


def run(app, *args: str):
    result = app.test_cli_runner().invoke(args=list(args))
    return result


@pytest.mark.parametrize("storage", ["directory", "database"])
@pytest.mark.parametrize("suffix", ["", ".zip"])
def test_export_import_export_gives_the_same_bytes(tmp_path, storage, suffix):
    first = new_app(tmp_path, "first", storage)
    with first.app_context():
        ids = populate()
    done = run(first, "export", str(tmp_path / f"one{suffix}"))
    assert done.exit_code == 0, done.output
    counts = json.loads(done.output)
    assert counts["messages"] == 5 and counts["files"] == 1 and counts["file_bytes"] == 3
    for table in ("room_reads", "mentions", "notify_settings", "notify_accounts",
                  "oidc_identities", "invitations", "audit_events"):
        assert counts[table] >= 1, table

    second = new_app(tmp_path, "second", storage)
    done = run(second, "import", str(tmp_path / f"one{suffix}"))
    assert done.exit_code == 0, done.output
    assert run(second, "export", str(tmp_path / f"two{suffix}")).exit_code == 0
    assert read_all(tmp_path / f"one{suffix}") == read_all(tmp_path / f"two{suffix}")

    # What came in works: history, edits, reactions, the file's bytes, and new ids go on.
    client = second.test_client()
    with second.app_context():
        from tests.data.populate import member, op
        dave = member("dave")
        page = op("history", dave, room="general")["messages"]
        first_message = next(m for m in page if m["id"] == ids["message"])
        assert first_message["text"] == "hello world, edited" and first_message["pinned"]
        assert first_message["reactions"] and first_message["reply_count"] == 1
        assert len(op("edits", dave, room="general", id=ids["message"])["versions"]) == 2
        newer = op("message", dave, room="general", text="after the import")["message"]
        assert newer["id"] > max(m["id"] for m in page)
        assert op("search", dave, room="general", q="edited")["results"]
        bob = accounts.find_user("bob")
        assert (bob.display_name, bob.email, bob.send_receipts) == ("Bob B.", "bob@example.com",
                                                                   False)
        assert stored_files().open(avatars.stored(bob, 64))[0].read()  # the avatar's bytes came too
        general = db.session.scalar(select(Room).filter_by(name="general"))
        assert (general.topic, general.retention_days) == ("Everything", 30)
    token = second.test_cli_runner().invoke(args=["tokens", "create", "dave", "x"]).output.strip()
    got = client.get(first_message["files"][0]["url"] if first_message["files"] else
                     next(m for m in page if m["files"])["files"][0]["url"],
                     headers={"Authorization": f"Bearer {token}"})
    assert got.status_code == 200 and got.data == b"file bytes\n" * 100


def read_all(path) -> dict:
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            return {name: archive.read(name) for name in archive.namelist()}
    return {str(p.relative_to(path)): p.read_bytes() for p in path.rglob("*") if p.is_file()}


def test_passwords_stay_out_unless_asked(tmp_path):
    first = new_app(tmp_path, "first", "directory")
    with first.app_context():
        populate()
    run(first, "export", str(tmp_path / "plain"))
    run(first, "export", "--with-passwords", str(tmp_path / "secret"))
    plain = (tmp_path / "plain" / exports.ARCHIVE).read_text()
    assert "password_hash" not in plain and "session_secret" not in plain
    assert "token_hash" not in plain
    assert "password_hash" in (tmp_path / "secret" / exports.ARCHIVE).read_text()
    secrets = {"api_tokens", "two_factor", "recovery_codes", "webhooks", "webhook_deliveries",
               "incoming_webhooks", "slash_commands", "push_subscriptions", "notifications"}
    assert not secrets & set(json.loads(plain)["tables"])  # the archive is one JSON document

    second = new_app(tmp_path, "second", "directory")
    run(second, "import", str(tmp_path / "plain"))
    with second.app_context():
        assert accounts.find_user("alice") is not None  # imported, but cannot log in
        assert accounts.authenticate("alice", "long enough password") is None

    third = new_app(tmp_path, "third", "directory")
    run(third, "import", str(tmp_path / "secret"))
    with third.app_context():
        assert accounts.authenticate("alice", "long enough password") is not None


def test_import_refuses_an_instance_with_data(tmp_path):
    first = new_app(tmp_path, "first", "directory")
    with first.app_context():
        populate()
    run(first, "export", str(tmp_path / "one"))
    done = run(first, "import", str(tmp_path / "one"))
    assert done.exit_code != 0 and "not empty" in done.output


@pytest.mark.parametrize("content, says", [
    (b'{"format": 99, "with_passwords": false, "tables": {\n}}\n', "format 99"),
    (b'{"format": 1, "with_passwords": false, "tables": {\n"tokens": [\n]\n}}\n', "unexpected"),
    (b'{"format": 1, "with_passwords": false, "tables": {\n"users": [\n{"nope":1}\n]\n}}\n',
     "unknown columns"),
])
def test_import_refuses_a_bad_archive_and_stores_nothing(tmp_path, content, says):
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / exports.ARCHIVE).write_bytes(content)
    app = new_app(tmp_path, "target", "directory")
    done = run(app, "import", str(tmp_path / "bad"))
    assert done.exit_code != 0 and says in done.output
    with app.app_context():
        importer.refuse_unless_empty()  # nothing stored

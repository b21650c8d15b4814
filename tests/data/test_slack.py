"""``flask import --slack``: a small hand-made Slack workspace export becomes accounts, rooms,
messages with threads, edits and reactions, its mrkdwn made plain."""
from __future__ import annotations

import json
import zipfile

import pytest
from sqlalchemy import func, select, text

from tests.data.populate import member, op
from tests.data.test_export import new_app, run
from webapp import accounts
from webapp.chat import search_index
from webapp.extensions import db
from webapp.models import Message

USERS = [
    {"id": "U1", "name": "alice", "real_name": "Alice A"},
    {"id": "U2", "name": "bob.smith", "real_name": "Bob S"},
    {"id": "U3", "name": "general-bot", "is_bot": True},
]
CHANNELS = [{"id": "C1", "name": "general", "created": 1700000000, "creator": "U1"},
            {"id": "C2", "name": "design", "created": 1700000100, "creator": "U2"}]
GENERAL_DAY1 = [
    {"type": "message", "user": "U1", "ts": "1700000200.000100",
     "text": "Hi <@U2>, see <#C2|design> and <https://example.com|the site> &amp; <https://x.org>",
     "reactions": [{"name": "+1", "users": ["U2", "U3"], "count": 2},
                   {"name": "our-own-party-parrot", "users": ["U2"], "count": 1}]},
    {"type": "message", "subtype": "channel_join", "user": "U2", "ts": "1700000210.000100",
     "text": "<@U2> has joined the channel"},
    {"type": "message", "user": "U2", "ts": "1700000300.000200", "thread_ts": "1700000200.000100",
     "text": "a reply in the thread", "edited": {"user": "U2", "ts": "1700000400.000000"}},
]
GENERAL_DAY2 = [
    {"type": "message", "user": "U1", "ts": "1700090000.000100", "text": "here is a file",
     "files": [{"name": "plan.pdf", "url_private": "https://files.slack.com/plan.pdf"}]},
    {"type": "message", "subtype": "bot_message", "username": "deploy bot", "bot_id": "B1",
     "ts": "1700090100.000100", "text": "deployed"},
]


@pytest.fixture
def slack_zip(tmp_path):
    path = tmp_path / "slack.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("users.json", json.dumps(USERS))
        archive.writestr("channels.json", json.dumps(CHANNELS))
        archive.writestr("general/2023-11-14.json", json.dumps(GENERAL_DAY1))
        archive.writestr("general/2023-11-15.json", json.dumps(GENERAL_DAY2))
        archive.writestr("design/2023-11-14.json", json.dumps([
            {"type": "message", "user": "U2", "ts": "1700000500.000100", "text": "mockups"}]))
    return path


def test_a_slack_export_becomes_rooms_and_messages(tmp_path, slack_zip):
    app = new_app(tmp_path, "target", "directory")
    with app.app_context():
        member("alice")  # an account of that name exists already
    done = run(app, "import", "--slack", str(slack_zip))
    assert done.exit_code == 0, done.output
    assert json.loads(done.output) == {"users": 3, "rooms": 2, "messages": 5}
    with app.app_context():
        # Indexed for search by the import itself (SQLite), not left to the first search.
        assert db.session.scalar(text(f"SELECT id FROM {search_index.MARK}")) == db.session.scalar(
            select(func.max(Message.id)))
        reader = member("reader")
        rooms = {r["name"] for r in op("rooms", reader)["rooms"]}
        assert {"general-slack", "design"} <= rooms  # general was taken
        page = op("history", reader, room="general-slack")["messages"]
        first, reply, with_file, bot = page
        assert first["author"] == "alice-slack" and first["text"] == (
            "Hi @bob-smith, see #design and the site (https://example.com) & https://x.org")
        assert first["created_at"] == "2023-11-14T22:16:40.000Z"
        assert [(r["emoji"], r["count"]) for r in first["reactions"]] == [("👍", 2)]
        assert reply["reply_to"] == first["id"] and first["reply_count"] == 1
        assert reply["edited_at"] is not None and reply["author"] == "bob-smith"
        assert with_file["text"] == "here is a file\nplan.pdf: https://files.slack.com/plan.pdf"
        assert bot["author"] == "deploy-bot"
        # Imported accounts have no password; new messages go on after the imported ones.
        assert accounts.authenticate("bob-smith", "") is None
        op("join", reader, room="general-slack")
        assert op("message", reader, room="general-slack", text="after")["message"]["seq"] == 5


def test_a_zip_that_is_not_a_slack_export_is_refused(tmp_path):
    path = tmp_path / "other.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    app = new_app(tmp_path, "target", "directory")
    done = run(app, "import", "--slack", str(path))
    assert done.exit_code != 0 and "users.json is missing" in done.output

"""Retention (webapp/data/retention.py) on SQLite and PostgreSQL: old messages go with their
files, edits and reactions; the change log moves past them; rooms' own settings win."""
from __future__ import annotations

import io
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select, update

from tests.data.populate import member, op
from webapp.chat import files
from webapp.data import retention
from webapp.errors import AppError
from webapp.extensions import db
from webapp.models import File, Message, MessageEdit, Reaction, Room, utcnow


@pytest.fixture
def chat(db_app):
    upgrade()
    return db_app


def age(ids: list[int], days: float) -> None:
    db.session.execute(update(Message).where(Message.id.in_(ids))
                       .values(created_at=utcnow() - timedelta(days=days)))
    db.session.commit()


def post(who, room: str, n: int) -> list[int]:
    return [op("message", who, room=room, text=f"m{i}")["message"]["id"] for i in range(n)]


def live_ids(room: str) -> set[int]:
    return set(db.session.scalars(select(Message.id).join(Room).where(Room.name == room)))


def test_old_messages_go_with_their_files_edits_and_reactions(chat):
    chat.config["RETENTION_DAYS"] = 30
    alice = member("alice")
    op("join", alice, room="general")
    old = post(alice, "general", 3)
    op("edit", alice, room="general", id=old[0], text="edited")
    op("react", alice, room="general", id=old[0], emoji="👍", on=True)
    upload = files.upload(alice, "general", io.BytesIO(b"old bytes"), "old.txt")
    with_file = op("message", alice, room="general", text="f", files=[upload["id"]])["message"]
    key = db.session.get(File, upload["id"]).key
    age(old + [with_file["id"]], days=31)
    new = post(alice, "general", 2)
    seen = op("join", alice, room="general")["seq"]
    assert list(Path(chat.config["FILE_DIR"]).rglob(key))

    assert retention.expire() == 4
    assert live_ids("general") == set(new)
    assert db.session.scalar(select(func.count()).select_from(File)) == 0
    assert db.session.scalar(select(func.count()).select_from(MessageEdit)) == 0
    assert db.session.scalar(select(func.count()).select_from(Reaction)) == 0
    assert not list(Path(chat.config["FILE_DIR"]).rglob(key))  # the bytes went too
    # A client that synced before the removal reloads; one up to date goes on syncing.
    with pytest.raises(AppError) as expired:
        op("sync", alice, room="general", since=0)
    assert expired.value.code == "sync_expired"
    assert op("sync", alice, room="general", since=seen)["ok"]
    assert retention.expire() == 0  # nothing twice


def test_a_rooms_own_retention_wins(chat):
    chat.config["RETENTION_DAYS"] = 10
    owner = member("owner")
    op("create_room", owner, room="forever")
    op("create_room", owner, room="short")
    op("join", owner, room="general")
    kept, short, general = (post(owner, room, 2) for room in ("forever", "short", "general"))
    assert op("set_retention", owner, room="forever", days=0)["effective_days"] == 0
    assert op("set_retention", owner, room="short", days=2)["retention_days"] == 2
    age(kept + general, days=11)
    age(short, days=3)
    assert retention.expire() == 4
    assert live_ids("forever") == set(kept) and not live_ids("short") and not live_ids("general")
    assert op("set_retention", owner, room="short", days=None)["effective_days"] == 10


def test_without_any_retention_nothing_goes(chat):
    alice = member("alice")
    op("join", alice, room="general")
    age(post(alice, "general", 2), days=5000)
    assert retention.expire() == 0 and len(live_ids("general")) == 2


@pytest.mark.parametrize("data, code", [
    ({"room": "mine"}, "invalid_payload"),
    ({"room": "mine", "days": -1}, "invalid_payload"),
    ({"room": "mine", "days": 36501}, "invalid_payload"),
    ({"room": "mine", "days": "30"}, "invalid_payload"),
    ({"room": "mine", "days": True}, "invalid_payload"),
    ({"room": "nope", "days": 1}, "forbidden"),
    ({"room": "general", "days": 1}, "forbidden"),  # nobody's room: admins only
])
def test_bad_or_unauthorized_settings_are_refused_and_change_nothing(chat, data, code):
    owner = member("owner")
    op("create_room", owner, room="mine")
    with pytest.raises(AppError) as refused:
        retention.set_retention(owner, data)
    assert refused.value.code == code
    assert db.session.scalar(select(Room.retention_days).where(Room.name == "mine")) is None


def test_only_the_owner_or_an_admin_sets_it(chat):
    owner, other, admin = member("owner"), member("other"), member("boss", admin=True)
    op("create_room", owner, room="mine")
    with pytest.raises(AppError) as refused:
        retention.set_retention(other, {"room": "mine", "days": 1})
    assert refused.value.code == "forbidden"
    assert op("set_retention", admin, room="mine", days=7)["retention_days"] == 7
    dm = op("dm", owner, user="other")["room"]["name"]
    with pytest.raises(AppError):
        retention.set_retention(admin, {"room": dm, "days": 1})


def test_two_removers_at_once_remove_each_message_once(chat, monkeypatch):
    monkeypatch.setattr(retention, "BATCH", 7)
    chat.config["RETENTION_DAYS"] = 1
    general = db.session.scalar(select(Room.id).where(Room.name == "general"))
    db.session.add_all(Message(room_id=general, author="a", text=f"m{i}",
                               created_at=utcnow() - timedelta(days=2)) for i in range(40))
    db.session.commit()
    counts, errors = [], []

    def remove():
        with chat.app_context():
            try:
                counts.append(retention.expire())
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
    threads = [threading.Thread(target=remove) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    if retention.expire():  # a remover that left the round to the other one left nothing
        counts.append(0)
    assert not errors and sum(counts) == 40 and not live_ids("general")

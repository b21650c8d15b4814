"""Profiles on SQLite and PostgreSQL (``database_url``): the columns of migration 0011 hold what
the service stores -- a 64-character display name in any script, an emoji with its selector, an
expiry with its time zone -- and the migration goes down and up again keeping the accounts."""
from __future__ import annotations

from datetime import timedelta

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from webapp import accounts
from webapp.chat import profiles, service
from webapp.extensions import db
from webapp.models import User, utcnow


@pytest.fixture
def alice(db_app):
    upgrade()
    user = accounts.create_user("alice", "long enough password")
    return service.connect(None, None, user=user)


def test_what_is_stored_reads_back_the_same(alice):
    name = "Алиса 東京 " + "é" * 55  # 64 characters, several scripts
    card, changed = profiles.set_profile(alice, {
        "display_name": name, "status": {"text": "ü" * 100, "emoji": "❤", "expires_in": 3600}})
    assert changed and card["display_name"] == name
    db.session.expire_all()
    again = profiles.card(db.session.get(User, alice.user_id))
    assert again == card
    assert again["status"]["emoji"] == "\u2764\ufe0f" and again["status"]["text"] == "ü" * 100
    user = db.session.get(User, alice.user_id)
    user.status_expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    db.session.expire_all()
    assert profiles.card(db.session.get(User, alice.user_id))["status"] is None


def test_the_migration_goes_down_and_up(alice):
    profiles.set_profile(alice, {"display_name": "Al"})
    db.session.remove()  # its transaction would hold PostgreSQL's ALTER TABLE up
    downgrade(revision="0010")
    with db.engine.connect() as connection:
        assert connection.execute(text("SELECT name FROM users")).scalars().all() == ["alice"]
    upgrade()
    assert profiles.card(accounts.find_user("alice"))["display_name"] is None

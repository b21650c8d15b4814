"""webapp/audit.py: what a row holds for each kind of actor, filters and paging, retention."""
from __future__ import annotations

from datetime import timedelta

from webapp import accounts, audit
from webapp.chat.service import Member
from webapp.extensions import db
from webapp.models import AuditEvent, utcnow


def rows(app) -> list[dict]:
    with app.app_context():
        return [e.to_dict() for e in db.session.query(AuditEvent).order_by(AuditEvent.id)]


def test_a_row_says_who_when_from_where_and_on_what(app):
    with app.app_context():
        user = accounts.create_user("alice", "long enough password")
        audit.record("token_created", actor=user, target="token:1", details={"name": "bot"})
        audit.record("ban", actor=Member(sid="s", name="mod", guest=False, user_id=7, admin=True,
                                         address="203.0.113.9"), target="user:2")
        with app.test_request_context("/", environ_base={"REMOTE_ADDR": "198.51.100.4"}):
            audit.record("login_failed", target="user:nobody")
    first, second, third = rows(app)
    assert (first["action"], first["actor"], first["target"], first["details"]) == (
        "token_created", "alice", "token:1", {"name": "bot"})
    assert (second["actor"], second["address"]) == ("mod", "203.0.113.9")
    assert (third["actor"], third["address"]) == (None, "198.51.100.4")
    assert first["at"].endswith("Z")
    with app.app_context():
        assert db.session.query(AuditEvent).filter_by(action="ban").one().actor_id == 7


def test_filters_and_pages(app):
    with app.app_context():
        for i in range(5):
            audit.record("login", actor=Member(sid="s", name=f"u{i % 2}"), target=f"user:u{i}")
        audit.record("logout", actor=Member(sid="s", name="u0"))
        assert [e.target for e in audit.events(action="login", actor="u0")] == [
            "user:u4", "user:u2", "user:u0"]
        newest = audit.events(limit=2)
        assert [e.action for e in newest] == ["logout", "login"]
        older = audit.events(before=newest[-1].id, limit=10)
        assert len(older) == 4
        assert audit.events(since=utcnow() + timedelta(minutes=1)) == []
        assert len(audit.events(until=utcnow() + timedelta(minutes=1))) == 6
        assert audit.actions() == ["login", "logout"]


def test_rows_past_the_retention_are_purged(app):
    app.config["AUDIT_RETENTION_DAYS"] = 30
    with app.app_context():
        audit.record("login", target="old")
        audit.record("login", target="new")
        old = db.session.query(AuditEvent).filter_by(target="old").one()
        old.at = utcnow() - timedelta(days=31)
        db.session.commit()
        assert audit.purge() == 1
        assert audit.purge() == 0  # a second process running it too removes nothing more
        assert [e.target for e in audit.events()] == ["new"]

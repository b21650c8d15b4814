"""The chat's moderation leaves audit rows (bans, kicks, moderators' deletions); an author
deleting their own message, and messages themselves, leave none."""
from __future__ import annotations

from tests.socket.conftest import call
from webapp.extensions import db
from webapp.models import AuditEvent


def actions(app) -> list[tuple[str, str | None, str | None]]:
    with app.app_context():
        return [(e.action, e.actor_name, e.target)
                for e in db.session.query(AuditEvent).order_by(AuditEvent.id)]


def test_bans_kicks_and_moderators_deletions_are_audited(app, users, connect):
    admin, bob, guest = users("root", admin=True), users("bob"), connect("gus")
    for client in (admin, bob, guest):
        assert call(client, "join", {"room": "general"})["ok"]
    mine = call(bob, "message", {"room": "general", "text": "mine"})["message"]
    theirs = call(guest, "message", {"room": "general", "text": "spam"})["message"]
    assert call(bob, "delete_message", {"room": "general", "id": mine["id"]})["ok"]
    assert actions(app) == []  # messages and an author's own deletion: nothing

    assert call(admin, "delete_message", {"room": "general", "id": theirs["id"]})["ok"]
    assert call(admin, "kick", {"room": "general", "user": "gus"})["ok"]
    assert call(admin, "ban", {"user": "bob", "reason": "spam"})["ok"]
    assert call(admin, "unban", {"user": "bob"})["ok"]
    assert actions(app) == [
        ("message_deleted", "root", f"message:{theirs['id']}"),
        ("kick", "root", "guest:gus"),
        ("ban", "root", "user:2"),
        ("unban", "root", "bob"),
    ]
    with app.app_context():
        row = db.session.query(AuditEvent).filter_by(action="message_deleted").one()
        assert row.details == {"room": "general", "author": "gus"}

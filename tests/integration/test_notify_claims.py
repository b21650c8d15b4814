"""The outbox's claims on SQLite and PostgreSQL: two senders claiming at once never take the same
row, a claimed row is nobody else's until its lease ends, and then it is claimed again."""
from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from flask_migrate import upgrade
from sqlalchemy import select

from webapp import accounts, create_app
from webapp.extensions import db
from webapp.models import Message, Room
from webapp.notify import delivery
from webapp.notify.models import Notification


def queue(count: int) -> None:
    """``count`` pending notifications, due now."""
    user = accounts.create_user("bob", "long enough password")
    room = Room(name="claims", kind="public")
    db.session.add(room)
    db.session.flush()
    now = datetime.now(UTC)
    for i in range(count):
        message = Message(room_id=room.id, author="alice", text=f"@bob {i}", guest=False)
        db.session.add(message)
        db.session.flush()
        db.session.add(Notification(message_id=message.id, user_id=user.id, room_id=room.id,
                                    target="push:1", reason="mention", due_at=now))
    db.session.commit()


def test_concurrent_claims_are_disjoint_and_leases_expire(db_app):
    upgrade()
    queue(120)
    other = create_app({**db_app.config})  # a second process's app on the same database
    now = datetime.now(UTC)
    claimed: dict[str, list[int]] = {}

    def claim(app, name):
        with app.app_context():
            taken = []
            while batch := delivery.claim(now):
                taken += batch
            claimed[name] = taken
            db.session.remove()

    threads = [threading.Thread(target=claim, args=(app, name))
               for app, name in ((db_app, "one"), (other, "two"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not set(claimed["one"]) & set(claimed["two"])
    assert len(claimed["one"]) + len(claimed["two"]) == 120
    assert delivery.claim(now) == []  # all leased
    later = now + timedelta(seconds=db_app.config["NOTIFY_LEASE_SECONDS"] + 1)
    assert len(delivery.claim(later)) == delivery.CLAIM  # a dead sender's rows come back
    assert db.session.scalar(select(Notification.status).limit(1)) == "pending"
    with other.app_context():
        db.engine.dispose()

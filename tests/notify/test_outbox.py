"""Who the outbox queues notifications for, and that scanning a message twice (a second
process, a restart) queues nothing twice."""
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.notify.conftest import give_email
from tests.socket.conftest import call
from webapp import create_app
from webapp.extensions import db
from webapp.models import User
from webapp.notify import outbox
from webapp.notify.models import Notification, NotifyCursor

BROWSER = {"endpoint": "https://fcm.push.test/send/", "keys": {"p256dh": "B" + "A" * 86,
                                                               "auth": "A" * 22}}


def subscribe(client, name):
    assert call(client, "push_subscribe", {**BROWSER, "endpoint": BROWSER["endpoint"] + name})["ok"]


def queued(app) -> list[tuple]:
    with app.app_context():
        rows = db.session.execute(select(Notification.user_id, Notification.target,
                                         Notification.reason).order_by(Notification.id)).all()
        names = {u.id: u.name for u in db.session.scalars(select(User))}
        return [(names[uid], target.split(":")[0], reason) for uid, target, reason in rows]


def scan(app) -> int:
    with app.app_context():
        return outbox.scan()


@pytest.fixture
def people(users):
    clients = {name: users(name) for name in ("alice", "bob", "carol")}
    for name, client in clients.items():
        subscribe(client, name)
        assert call(client, "join", {"room": "general"})["ok"]
    return clients


def test_a_dm_and_a_mention_reach_their_people_only(app, people):
    room = call(people["alice"], "dm", {"user": "bob"})["room"]["name"]
    assert call(people["alice"], "join", {"room": room})["ok"]
    assert call(people["alice"], "message", {"room": room, "text": "psst"})["ok"]
    assert call(people["alice"], "message", {"room": "general", "text": "hi @Carol and @alice"})["ok"]
    assert call(people["alice"], "message", {"room": "general", "text": "no one in particular"})["ok"]
    scan(app)
    assert queued(app) == [("bob", "push", "dm"), ("carol", "push", "mention")]


def test_levels_and_mutes(app, people):
    assert call(people["bob"], "set_notify", {"room": "general", "level": "all"})["ok"]
    assert call(people["carol"], "set_notify", {"room": "general", "level": "nothing"})["ok"]
    assert call(people["alice"], "message", {"room": "general", "text": "@carol news"})["ok"]
    scan(app)
    assert queued(app) == [("bob", "push", "all")]
    assert call(people["bob"], "set_notify", {"room": "general", "mute_minutes": 60})["ok"]
    assert call(people["alice"], "message", {"room": "general", "text": "more news"})["ok"]
    scan(app)
    assert len(queued(app)) == 1


def test_scanning_again_queues_nothing_twice(app, people, tmp_path):
    assert call(people["alice"], "message", {"room": "general", "text": "@bob look"})["ok"]
    scan(app)
    # Another process on the same database, whose watermark was read before the first moved.
    other = create_app({**app.config, "TESTING": True})
    with other.app_context():
        db.session.get(NotifyCursor, 1).message_id = 0
        db.session.commit()
        assert outbox.scan() == 1  # it tries to queue the row again ...
    assert queued(app) == [("bob", "push", "mention")]  # ... and the unique key keeps one


def test_email_rows_wait_for_the_digest_delay(app, people):
    app.config.update(SMTP_HOST="127.0.0.1", NOTIFY_EMAIL_DELAY=600)
    give_email(app, "bob", "bob@example.test")
    assert call(people["alice"], "message", {"room": "general", "text": "@bob read this"})["ok"]
    scan(app)
    assert queued(app) == [("bob", "push", "mention"), ("bob", "email", "mention")]
    with app.app_context():
        email = db.session.scalar(select(Notification).where(Notification.target == "email"))
        wait = email.due_at.replace(tzinfo=UTC) - datetime.now(UTC)
        assert timedelta(seconds=590) < wait <= timedelta(seconds=600)


def test_done_rows_are_purged_after_a_week(app, people):
    assert call(people["alice"], "message", {"room": "general", "text": "@bob and @carol"})["ok"]
    scan(app)
    with app.app_context():
        old, _ = db.session.scalars(select(Notification).order_by(Notification.id)).all()
        old.status, old.done_at = "sent", datetime.now(UTC) - timedelta(days=8)
        db.session.commit()
        assert outbox.purge() == 1
    assert queued(app) == [("carol", "push", "mention")]

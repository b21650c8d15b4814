"""Sending in-process, against the loopback push service (tests/pushservice.py): a due row is
sent once; a row whose lease ran out while this process was busy is left to whoever claims it
next; a person who turned push off gets none."""
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.pushservice import PushService
from tests.socket.conftest import call
from webapp.extensions import db
from webapp.notify import delivery, outbox, webpush
from webapp.notify.models import Notification


@pytest.fixture
def push(app):
    with PushService(webpush.public_key(app.config)) as service:
        yield service


@pytest.fixture
def mention(app, users, push):
    """bob (subscribed) is mentioned by alice; the notification is queued."""
    alice, bob = users("alice"), users("bob")
    assert call(bob, "push_subscribe", push.subscribe())["ok"]
    assert call(alice, "join", {"room": "general"})["ok"]
    assert call(alice, "message", {"room": "general", "text": "@bob deploy?"})["ok"]
    with app.app_context():
        outbox.scan()
    return bob


def status(app) -> str:
    with app.app_context():
        return db.session.scalar(select(Notification.status))


def test_a_due_row_is_sent_once(app, push, mention):
    with app.app_context():
        assert delivery.deliver() == 1
        assert delivery.deliver() == 0
    assert status(app) == "sent"
    assert push.count() == 1
    payload = push.received[0]["payload"]
    assert (payload["room"], payload["author"], payload["reason"]) == ("general", "alice", "mention")
    assert push.received[0]["headers"]["Topic"] == f"m{payload['message']}"


def test_a_row_whose_lease_ran_out_is_not_sent_here(app, push, mention):
    lease = app.config["NOTIFY_LEASE_SECONDS"]
    with app.app_context():
        # Claimed long ago: the lease ended before this process got to it.
        delivery.deliver(datetime.now(UTC) - timedelta(seconds=lease + 5))
    assert status(app) == "pending" and push.count() == 0
    with app.app_context():
        delivery.deliver()  # claimed again, now: sent
    assert status(app) == "sent" and push.count() == 1


def test_push_turned_off_sends_nothing(app, push, mention):
    assert call(mention, "set_notify", {"push": False})["ok"]
    with app.app_context():
        delivery.deliver()
    assert status(app) == "skipped" and push.count() == 0

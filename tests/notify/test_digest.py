"""E-mail digests against a real SMTP server on loopback (tests/mailbox.py): one e-mail listing
the unread mentions and DMs, retried when the server refuses, and an unsubscribe link that
works without logging in."""
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.mailbox import Mailbox
from tests.notify.conftest import give_email
from tests.socket.conftest import call
from webapp.extensions import db
from webapp.notify import delivery, outbox
from webapp.notify.models import Notification


@pytest.fixture
def mailbox(app):
    with Mailbox() as box:
        app.config.update(box.config, NOTIFY_EMAIL_DELAY=0, NOTIFY_RETRY_SECONDS=0,
                          PUBLIC_URL="http://chat.example.test")
        yield box


def round_(app, later: float = 1.0) -> None:
    """One outbox round, ``later`` seconds from now."""
    with app.app_context():
        now = datetime.now(UTC) + timedelta(seconds=later)
        outbox.scan(now)
        delivery.deliver(now)


def statuses(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(Notification.status).where(
            Notification.target == "email").order_by(Notification.id)))


@pytest.fixture
def alice_and_bob(app, users, mailbox):
    alice, bob = users("alice"), users("bob")
    give_email(app, "bob", "bob@example.test")
    room = call(alice, "dm", {"user": "bob"})["room"]["name"]
    for client in (alice, bob):
        assert call(client, "join", {"room": "general"})["ok"]
    assert call(alice, "join", {"room": room})["ok"]
    assert call(alice, "message", {"room": room, "text": "are we still on for friday?"})["ok"]
    assert call(alice, "message", {"room": "general", "text": "@bob the build is red"})["ok"]
    return alice, bob, room


def test_one_digest_lists_the_unread_mentions_and_dms(app, mailbox, alice_and_bob):
    _, _, room = alice_and_bob
    round_(app)
    message = mailbox.wait_for(lambda m: m["To"] == "bob@example.test")
    text = message.get_content()
    assert "2 unread" in message["Subject"]
    assert "are we still on for friday?" in text and "@bob the build is red" in text
    assert f"http://chat.example.test/?room={room}&message=" in text
    assert message["List-Unsubscribe"].startswith("<http://chat.example.test/notify/unsubscribe/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert statuses(app) == ["sent", "sent"]
    round_(app)
    assert mailbox.count() == 1  # sent once


def test_a_refused_digest_is_sent_again_later(app, mailbox, alice_and_bob):
    mailbox.refuse = True
    round_(app)
    assert statuses(app) == ["pending", "pending"]
    mailbox.refuse = False
    round_(app, later=5)
    mailbox.wait_for(lambda m: m["To"] == "bob@example.test")
    assert statuses(app) == ["sent", "sent"]
    assert mailbox.count() == 1


def test_someone_back_at_their_screen_gets_no_digest(app, mailbox, alice_and_bob):
    _, bob, _ = alice_and_bob
    assert call(bob, "active", {"active": True})["ok"]
    round_(app, later=app.config["NOTIFY_IDLE_SECONDS"] + 1)
    assert statuses(app) == ["skipped", "skipped"]
    assert mailbox.count() == 0


def test_the_unsubscribe_link_works_without_logging_in(app, client, mailbox, alice_and_bob):
    round_(app)
    text = mailbox.wait_for(lambda m: m["To"] == "bob@example.test").get_content()
    path = re.search(r"http://chat\.example\.test(/notify/unsubscribe/\S+)", text)[1]
    page = client.get(path)
    assert page.status_code == 200 and b"bob" in page.data
    assert client.post(path).status_code == 200  # no login, no CSRF token: the link suffices
    _, bob, _ = alice_and_bob
    assert call(bob, "notify_settings", {})["account"]["email_digest"] is False
    assert client.get(path[:-3] + "xyz").status_code == 404  # a forged token does nothing

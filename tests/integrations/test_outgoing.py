"""Outgoing webhooks' duty, one run at a time in-process (the live server's runs are in
test_outgoing_live.py): queuing, signatures, retries, failure, trigger words, SSRF at send time."""
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from webapp import accounts
from webapp.chat import ops, rooms, service
from webapp.extensions import db
from webapp.integrations import manage, outgoing
from webapp.models import WebhookDelivery, utcnow


@pytest.fixture
def owner(loopback_allowed):
    app = loopback_allowed
    app.config.update(WEBHOOK_RETRY_SECONDS=0, WEBHOOK_MAX_ATTEMPTS=3)
    with app.app_context():
        member = service.connect(None, None, user=accounts.create_user("owner", "long enough pw"))
        rooms.create_room(member, {"room": "team"})
    return member


def post(app, member, text):
    with app.app_context():
        return ops.post(member, {"room": "team", "text": text})[0]["message"]


def run_once(app):
    with app.app_context():
        outgoing.queue_new()
        outgoing.send_due()


def hook(app, member, url, trigger=None):
    with app.app_context():
        return manage.add_webhook(member, "team", {"url": url, "trigger": trigger})


def test_new_messages_are_delivered_signed(loopback_allowed, owner, receiver):
    app, target = loopback_allowed, receiver()
    post(app, owner, "before the webhook")  # not sent: a webhook starts from now
    secret = hook(app, owner, target.url)[1]
    first, second = post(app, owner, "one"), post(app, owner, "two")
    run_once(app)
    assert [r["json"]["message"]["text"] for r in target.requests] == ["one", "two"]
    for request, message in zip(target.requests, (first, second), strict=True):
        assert target.signed(request, secret)
        assert request["headers"]["X-Parley-Delivery"] == request["json"]["delivery"]
        assert request["json"]["message"]["id"] == message["id"] and request["json"]["room"] == "team"
    assert not target.signed(target.requests[0], "another secret")
    run_once(app)
    assert len(target.requests) == 2  # nothing twice
    with app.app_context():
        [listed] = manage.list_webhooks(owner, "team")
    assert listed["last_status"] == "200" and listed["last_error"] is None


def test_retries_keep_the_delivery_id_then_fail(loopback_allowed, owner, receiver):
    app, target = loopback_allowed, receiver([(500, "no"), (200, "ok")])
    hook(app, owner, target.url)
    post(app, owner, "retry me")
    run_once(app)
    with app.app_context():
        assert manage.list_webhooks(owner, "team")[0]["last_error"] == "HTTP 500"
    run_once(app)
    ids = [r["headers"]["X-Parley-Delivery"] for r in target.requests]
    assert len(ids) == 2 and ids[0] == ids[1]
    failing = receiver([(503, "down")])
    hook(app, owner, failing.url)
    post(app, owner, "never")
    for _ in range(5):
        run_once(app)
    assert len(failing.requests) == 3  # WEBHOOK_MAX_ATTEMPTS
    with app.app_context():
        statuses = db.session.scalars(select(WebhookDelivery.status)).all()
    assert sorted(statuses) == ["delivered", "delivered", "failed"]


def test_a_trigger_word_selects_messages(loopback_allowed, owner, receiver):
    app, target = loopback_allowed, receiver()
    hook(app, owner, target.url, trigger="deploy")
    for text in ("hello", "deploy api now", "please deploy", "DEPLOY web"):
        post(app, owner, text)
    run_once(app)
    assert [r["json"]["message"]["text"] for r in target.requests] == ["deploy api now", "DEPLOY web"]


def test_deleted_messages_and_bot_messages_are_not_sent(loopback_allowed, owner, receiver):
    app, target = loopback_allowed, receiver()
    hook(app, owner, target.url)
    gone = post(app, owner, "oops")
    with app.app_context():
        ops.OPS["delete_message"](owner, {"room": "team", "id": gone["id"]}, None)
        from webapp.integrations import messages
        messages.post("team", "ci", "from a bot", {"bot": True})
    run_once(app)
    assert target.requests == []


def test_a_target_no_longer_allowed_is_refused_at_send_time(loopback_allowed, owner, receiver):
    app, target = loopback_allowed, receiver()
    hook(app, owner, target.url)
    post(app, owner, "hello")
    app.config["WEBHOOK_ALLOWED_NETWORKS"] = []
    run_once(app)
    assert target.requests == []
    with app.app_context():
        assert manage.list_webhooks(owner, "team")[0]["last_status"] == "refused"


def test_a_claimed_delivery_is_not_sent_by_another(loopback_allowed, owner, receiver):
    app, target = loopback_allowed, receiver()
    hook(app, owner, target.url)
    post(app, owner, "once")
    with app.app_context():
        outgoing.queue_new()
        [delivery] = db.session.scalars(select(WebhookDelivery.id)).all()
        assert outgoing._claim(delivery) is True
        assert outgoing._claim(delivery) is False  # a second process finds it leased
        outgoing.send_due()
        assert target.requests == []
        # The claimer died mid-send: once its lease lapses the delivery goes out, same id.
        db.session.execute(update(WebhookDelivery).values(next_attempt_at=utcnow()))
        db.session.commit()
        outgoing.send_due()
    assert [r["headers"]["X-Parley-Delivery"] for r in target.requests] == [delivery]


def test_done_deliveries_are_forgotten_after_a_week(loopback_allowed, owner, receiver):
    app, target = loopback_allowed, receiver()
    hook(app, owner, target.url)
    post(app, owner, "old news")
    run_once(app)  # delivered
    post(app, owner, "still due")
    with app.app_context():
        outgoing.queue_new()  # queued, not sent
        assert outgoing.purge() == 0  # delivered just now: kept
        later = utcnow() + outgoing.KEEP_DONE + timedelta(minutes=1)
        assert outgoing.purge(later) == 1
        left = db.session.execute(select(WebhookDelivery.status)).scalars().all()
    assert left == ["pending"]  # what is still to send is never forgotten

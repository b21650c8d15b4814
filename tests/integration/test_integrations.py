"""Integrations' tables on SQLite and PostgreSQL (``database_url``): the migration both ways, and
the webhook duty's queue and send, two queuers at once included."""
from __future__ import annotations

import threading

from flask_migrate import downgrade, upgrade
from sqlalchemy import func, select

from tests.integrations.receiver import Receiver
from webapp import accounts
from webapp.chat import ops, rooms, service
from webapp.extensions import db, ratelimits
from webapp.integrations import commands, manage, messages, outgoing
from webapp.models import WebhookDelivery


def test_migration_down_and_up(db_app):
    upgrade()
    downgrade(revision="0012")
    upgrade()
    assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0


def test_queue_and_send_with_two_queuers_at_once(db_app):
    upgrade()
    db_app.config.update(WEBHOOK_ALLOWED_NETWORKS=["127.0.0.0/8"], RATE_LIMIT_MESSAGE="1000 per minute")
    ratelimits.init_app(db_app)
    target = Receiver()
    try:
        owner = service.connect(None, "sid-owner", user=accounts.create_user("owner", "long enough pw"))
        rooms.create_room(owner, {"room": "team"})
        service.join(owner, {"room": "team"})
        secret = manage.add_webhook(owner, "team", {"url": target.url})[1]
        sent = [ops.post(owner, {"room": "team", "text": f"m{i}"})[0]["message"]["id"]
                for i in range(30)]
        sent.append(commands.run(owner, {"room": "team", "text": "/me waves"}, None)[0]
                    ["message"]["id"])
        messages.post("team", "ci", "from a bot", {"bot": True})  # not sent to webhooks
        queued = []

        def queue() -> None:
            with db_app.app_context():
                queued.append(outgoing.queue_new())
        threads = [threading.Thread(target=queue) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert sorted(queued) == [0, 31]  # one of them queued everything, the other nothing
        outgoing.queue_new()
        while outgoing.send_due():
            pass
        assert sorted(r["json"]["message"]["id"] for r in target.requests) == sent
        assert all(target.signed(r, secret) for r in target.requests)
    finally:
        target.close()

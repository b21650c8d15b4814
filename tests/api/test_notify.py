"""Notification settings and push subscriptions over REST (webapp/api/notify.py)."""
import pytest

from tests.api.test_rooms import bearer
from webapp import accounts
from webapp.notify.webpush import generate_keys

PRIVATE, PUBLIC = generate_keys()
BROWSER = {"endpoint": "https://fcm.googleapis.com/fcm/send/abc",
           "keys": {"p256dh": "B" + "A" * 86, "auth": "A" * 22}}


@pytest.fixture
def token(app):
    app.config.update(VAPID_PRIVATE_KEY=PRIVATE, VAPID_PUBLIC_KEY=None)
    with app.app_context():
        return accounts.create_token(accounts.create_user("bob", "long enough password"), "t")[1]


def test_the_key(client, token):
    assert client.get("/api/push/key").json == {"key": PUBLIC}


def test_settings_round_trip(client, token):
    changed = client.put("/api/rooms/general/notifications", headers=bearer(token),
                         json={"level": "nothing", "muted_until": "forever"})
    assert changed.status_code == 200
    assert changed.json == {"room": "general", "level": "nothing", "muted_until": "forever"}
    account = client.patch("/api/notifications/settings", headers=bearer(token),
                           json={"email_digest": False})
    assert account.status_code == 200 and account.json["account"]["email_digest"] is False
    read = client.get("/api/notifications/settings", headers=bearer(token)).json
    assert read["rooms"] == [changed.json] and read["account"]["email"] is None
    one = client.get("/api/notifications/settings?room=general", headers=bearer(token)).json
    assert one == {"room": changed.json}


def test_bad_input_and_no_token(client, token):
    bad = client.put("/api/rooms/general/notifications", headers=bearer(token),
                     json={"level": "loud"})
    assert bad.status_code == 400 and bad.json["error"]["code"] == "invalid_level"
    assert client.patch("/api/notifications/settings", json={"push": False}).status_code == 401
    assert client.post("/api/push/subscriptions", json=BROWSER).status_code == 401


def test_subscriptions(client, token):
    made = client.post("/api/push/subscriptions", json=BROWSER, headers=bearer(token))
    assert made.status_code == 201 and made.json["endpoint"] == BROWSER["endpoint"]
    gone = client.delete("/api/push/subscriptions", json={"endpoint": BROWSER["endpoint"]},
                         headers=bearer(token))
    assert gone.status_code == 204
    again = client.delete("/api/push/subscriptions", json={"endpoint": BROWSER["endpoint"]},
                          headers=bearer(token))
    assert again.status_code == 404

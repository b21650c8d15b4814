"""The notification settings operations (notify_settings, set_notify, push_subscribe,
push_unsubscribe) over Socket.IO: what is stored, and bad input refused with nothing stored."""
import pytest

from tests.notify.conftest import give_email
from tests.socket.conftest import call

BROWSER = {"endpoint": "https://fcm.push.test/send/abc",
           "keys": {"p256dh": "B" + "A" * 86, "auth": "A" * 22}}


def test_defaults(users):
    bob = users("bob")
    answer = call(bob, "notify_settings", {})
    assert answer["ok"] and answer["rooms"] == []
    account = answer["account"]
    assert (account["email"], account["push"], account["email_digest"]) == (None, True, True)
    assert account["push_key"] and account["subscriptions"] == []
    assert call(bob, "notify_settings", {"room": "general"})["room"] == {
        "room": "general", "level": "mentions", "muted_until": None}


def test_a_room_level_and_mute_are_kept(users):
    bob = users("bob")
    assert call(bob, "join", {"room": "ops"})["ok"]
    changed = call(bob, "set_notify", {"room": "ops", "level": "all", "mute_minutes": 60})
    assert changed["room"]["level"] == "all" and changed["room"]["muted_until"]
    assert call(bob, "set_notify", {"room": "ops", "muted_until": "forever"})["room"][
        "muted_until"] == "forever"
    assert call(bob, "notify_settings", {})["rooms"] == [
        {"room": "ops", "level": "all", "muted_until": "forever"}]
    unmuted = call(bob, "set_notify", {"room": "ops", "mute_minutes": 0})["room"]
    assert unmuted == {"room": "ops", "level": "all", "muted_until": None}


def test_account_preferences_and_the_address_they_use(app, users):
    bob = users("bob")
    answer = call(bob, "set_notify", {"push": False, "email_digest": True, "digest_minutes": 30})
    account = answer["account"]
    assert (account["push"], account["digest_minutes"], account["email"]) == (False, 30, None)
    give_email(app, "bob", "Bob@Example.com")
    assert call(bob, "notify_settings", {})["account"]["email"] == "bob@example.com"


def test_the_address_is_not_set_here(app, users):
    """It is where password resets go: a session or a token alone must not change it."""
    bob = users("bob")
    refused = call(bob, "set_notify", {"email": "mallory@example.test", "push": False})
    assert refused["error"]["code"] == "email_needs_password"
    account = call(bob, "notify_settings", {})["account"]
    assert account["email"] is None and account["push"] is True  # nothing of it was stored


@pytest.mark.parametrize("data, code", [
    ({"room": "general", "level": "loud"}, "invalid_level"),
    ({"room": "general", "mute_minutes": -5}, "invalid_mute"),
    ({"room": "general", "mute_minutes": True}, "invalid_mute"),
    ({"room": "general", "mute_minutes": 10, "muted_until": None}, "invalid_mute"),
    ({"room": "general", "muted_until": "yesterday"}, "invalid_mute"),
    ({"room": "general", "muted_until": 12}, "invalid_mute"),
    ({"room": "Not A Room"}, "invalid_room"),
    ({"room": "no-such-room"}, "not_found"),
    ({"email": "bob@example.test"}, "email_needs_password"),
    ({"digest_minutes": 0}, "invalid_payload"),
    ({"push": "yes"}, "invalid_payload"),
])
def test_bad_settings_are_refused_and_nothing_is_stored(users, data, code):
    bob = users("bob")
    before = call(bob, "notify_settings", {})
    answer = call(bob, "set_notify", data)
    assert answer["ok"] is False and answer["error"]["code"] == code
    assert call(bob, "notify_settings", {}) == before
    assert bob.is_connected()


@pytest.mark.parametrize("subscription", [
    {**BROWSER, "endpoint": "https://evil.example/push"},  # not a listed push service
    {**BROWSER, "endpoint": "http://fcm.push.test/send/abc"},  # http beyond loopback
    {**BROWSER, "endpoint": 7},
    {**BROWSER, "keys": {"p256dh": "short", "auth": "A" * 22}},
    {**BROWSER, "keys": {"p256dh": BROWSER["keys"]["p256dh"]}},
    {"endpoint": BROWSER["endpoint"]},
])
def test_bad_subscriptions_are_refused(users, subscription):
    bob = users("bob")
    answer = call(bob, "push_subscribe", subscription)
    assert answer["error"]["code"] == "invalid_subscription"
    assert call(bob, "notify_settings", {})["account"]["subscriptions"] == []


def test_a_browser_subscribes_and_unsubscribes(users):
    bob, carol = users("bob"), users("carol")
    assert call(bob, "push_subscribe", BROWSER)["subscription"]["endpoint"] == BROWSER["endpoint"]
    # The same browser logged in as someone else is theirs now.
    assert call(carol, "push_subscribe", BROWSER)["ok"]
    assert call(bob, "notify_settings", {})["account"]["subscriptions"] == []
    assert call(bob, "push_unsubscribe", {"endpoint": BROWSER["endpoint"]})["removed"] is False
    assert call(carol, "push_unsubscribe", {"endpoint": BROWSER["endpoint"]})["removed"] is True


def test_guests_have_no_settings(connect):
    guest = connect("visitor")
    for op, data in (("notify_settings", {}), ("set_notify", {"push": False}),
                     ("push_subscribe", BROWSER)):
        assert call(guest, op, data)["error"]["code"] == "forbidden"


def test_a_private_room_one_is_not_in_is_not_found(users):
    owner, bob = users("owner"), users("bob")
    assert call(owner, "create_room", {"room": "secret", "private": True})["ok"]
    assert call(bob, "set_notify", {"room": "secret", "level": "all"})["error"][
        "code"] == "not_found"


def test_push_is_unavailable_without_keys(users, app):
    app.config["VAPID_PRIVATE_KEY"] = None
    bob = users("bob")
    assert call(bob, "push_subscribe", BROWSER)["error"]["code"] == "push_unavailable"
    assert call(bob, "notify_settings", {})["account"]["push_key"] is None


def test_settings_are_rate_limited(users, app):
    from webapp.extensions import ratelimits

    app.config["RATE_LIMIT_NOTIFY"] = "3 per minute"
    ratelimits.init_app(app)
    bob = users("bob")
    answers = [call(bob, "notify_settings", {}) for _ in range(4)]
    assert [a["ok"] for a in answers] == [True, True, True, False]
    assert answers[-1]["error"]["code"] == "rate_limited"

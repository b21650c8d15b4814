"""Profiles (issue 18) through the Socket.IO handlers: `set_profile`, `profile`, `profiles` and the
`profile` event. /ws runs the same table (tests/gateway/test_every_operation.py); avatars are
REST's (tests/api/test_profiles.py).

Attacks tried: a guest giving itself a profile, control and bidi characters in a name, text or a
second emoji passed off as the emoji, expiries in the past or next decade, floods of changes.
"""
from datetime import timedelta

import pytest

from tests.socket.conftest import call, received
from webapp.extensions import db, ratelimits
from webapp.models import User, utcnow

ROOM = "general"


@pytest.fixture
def two(users):
    """alice and bob, both in ``general``, their event queues empty."""
    alice, bob = users("alice"), users("bob")
    for client in (alice, bob):
        assert call(client, "join", {"room": ROOM})["ok"]
        client.get_received()
    return alice, bob


def code(ack):
    assert ack.get("ok") is not True, ack
    return ack["error"]["code"]


def test_a_change_reaches_the_room_and_the_person_once_and_reads_back(two, users):
    alice, bob = two
    elsewhere = users("carol")  # in no room with alice: hears nothing
    ack = call(alice, "set_profile", {"display_name": "  Alice A.  ",
                                      "status": {"text": "On call", "emoji": "📟"}})
    assert ack["ok"], ack
    card = ack["profile"]
    assert card == {"user": "alice", "guest": False, "display_name": "Alice A.",
                    "avatar_url": None, "away": True,  # no page of hers reported `active`
                    "status": {"text": "On call", "emoji": "📟", "expires_at": None}}
    assert received(bob, "profile") == [card]
    assert received(alice, "profile") == [card]  # in the room and in user:<id>: still one event
    assert received(elsewhere, "profile") == []
    assert call(bob, "profile", {"name": "ALICE"}) == {"ok": True, "profile": card}
    assert call(elsewhere, "profiles", {"names": ["alice", "bob", "nobody"]})["profiles"] == [
        card, {"user": "bob", "guest": False, "display_name": None, "avatar_url": None,
               "status": None, "away": True}]


def test_keys_left_out_stay_and_empty_or_null_clears(two):
    alice, bob = two
    call(alice, "set_profile", {"display_name": "Al", "status": {"text": "lunch"}})
    card = call(alice, "set_profile", {"status": {"emoji": "🍕"}})["profile"]
    assert card["display_name"] == "Al" and card["status"]["text"] == "" and card["status"]["emoji"] == "🍕"
    card = call(alice, "set_profile", {"display_name": "", "status": {"text": " ", "emoji": ""}})["profile"]
    assert card["display_name"] is None and card["status"] is None
    call(alice, "set_profile", {"status": {"text": "x"}})
    assert call(alice, "set_profile", {"status": None})["profile"]["status"] is None
    bob.get_received()
    assert call(alice, "set_profile", {"status": None})["ok"]  # no change: no event
    assert received(bob, "profile") == []


def test_the_emoji_is_stored_in_its_one_spelling(two):
    alice, _ = two
    card = call(alice, "set_profile", {"status": {"emoji": "\u2764"}})["profile"]  # bare heart
    assert card["status"]["emoji"] == "\u2764\ufe0f"


def test_guests_have_no_profile_but_may_read_others(two, connect):
    alice, bob = two
    guest = connect("visitor")
    assert call(guest, "join", {"room": ROOM})["ok"]
    bob.get_received()
    assert code(call(guest, "set_profile", {"display_name": "Admin"})) == "forbidden"
    assert received(bob, "profile") == []
    assert code(call(alice, "profile", {"name": "visitor"})) == "not_found"
    assert call(guest, "profile", {"name": "alice"})["profile"]["user"] == "alice"
    assert call(guest, "profiles", {"names": ["visitor", "alice"]})["profiles"][0]["user"] == "alice"


BAD = [
    ({"display_name": 42}, "invalid_display_name"),
    ({"display_name": "x" * 65}, "invalid_display_name"),
    ({"display_name": "a\x00b"}, "invalid_display_name"),
    ({"display_name": "a\nb"}, "invalid_display_name"),
    ({"display_name": "evil\u202egnp.exe"}, "invalid_display_name"),
    ({"status": "busy"}, "invalid_status"),
    ({"status": {"text": "x" * 101}}, "invalid_status_text"),
    ({"status": {"text": ["x"]}}, "invalid_status_text"),
    ({"status": {"text": "ok", "emoji": "smile"}}, "invalid_emoji"),
    ({"status": {"text": "ok", "emoji": "👍👍"}}, "invalid_emoji"),
    ({"status": {"text": "ok", "emoji": 1}}, "invalid_emoji"),
    ({"status": {"text": "ok", "expires_in": 0}}, "invalid_status"),
    ({"status": {"text": "ok", "expires_in": True}}, "invalid_status"),
    ({"status": {"text": "ok", "expires_in": "60"}}, "invalid_status"),
    ({"status": {"text": "ok", "expires_in": 400 * 86400}}, "invalid_status"),
    ({"status": {"text": "ok", "expires_at": "tomorrow"}}, "invalid_status"),
    ({"status": {"text": "ok", "expires_at": "2020-01-01T00:00:00Z"}}, "invalid_status"),
    ({"status": {"text": "ok", "expires_at": "2099-01-01T00:00:00Z"}}, "invalid_status"),
    ({"status": {"text": "ok", "expires_at": "2026-12-01T10:00:00"}}, "invalid_status"),  # no zone
    ({"status": {"text": "ok", "expires_in": 60, "expires_at": "2026-12-01T10:00:00Z"}},
     "invalid_status"),
    ("display_name", "invalid_payload"),
]


@pytest.mark.parametrize(("payload", "expected"), BAD)
def test_bad_input_is_refused_with_a_code_and_nothing_changes(two, payload, expected):
    alice, bob = two
    before = call(alice, "set_profile", {"display_name": "Alice", "status": {"text": "here"}})
    bob.get_received()
    assert code(call(alice, "set_profile", payload)) == expected
    assert call(bob, "profile", {"name": "alice"})["profile"] == before["profile"]
    assert received(bob, "profile") == []
    assert call(alice, "message", {"room": ROOM, "text": "still here"})["ok"]  # carries on


@pytest.mark.parametrize("payload", [None, {}, {"name": 5}, {"name": "no spaces allowed"}])
def test_bad_profile_requests(two, payload):
    assert code(call(two[0], "profile", payload)) in {"invalid_payload", "invalid_name"}


@pytest.mark.parametrize("names", [None, [], "alice", [1], ["ok"] * 101])
def test_bad_profiles_requests(two, names):
    assert code(call(two[0], "profiles", {"names": names})) in {"invalid_payload", "invalid_name"}


def test_an_expired_status_is_served_as_absent(two, app):
    alice, bob = two
    card = call(alice, "set_profile", {"status": {"text": "brb", "emoji": "☕",
                                                  "expires_in": 1800}})["profile"]
    assert card["status"]["expires_at"] > utcnow().isoformat()[:19]
    soon = (utcnow() + timedelta(minutes=5)).isoformat()
    assert call(alice, "set_profile", {"status": {"text": "meeting", "expires_at": soon}})[
        "profile"]["status"]["expires_at"].startswith(soon[:19])
    with app.app_context():  # the expiry passes
        user = db.session.query(User).filter_by(name="alice").one()
        user.status_expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert call(bob, "profile", {"name": "alice"})["profile"]["status"] is None
    assert call(bob, "profiles", {"names": ["alice"]})["profiles"][0]["status"] is None


def test_changes_are_rate_limited(app, two):
    app.config["RATE_LIMIT_PROFILE"] = "3 per hour"
    ratelimits.init_app(app)
    alice, _ = two
    for n in range(3):
        assert call(alice, "set_profile", {"display_name": f"A{n}"})["ok"]
    ack = call(alice, "set_profile", {"display_name": "A4"})
    assert code(ack) == "rate_limited" and ack["error"]["retry_after"] > 0


def test_cards_say_who_is_away(two):
    """Away until a page reports being in the foreground (`active`); cards read it."""
    alice, bob = two
    assert call(alice, "profile", {"name": "bob"})["profile"]["away"] is True
    assert call(bob, "active", {"active": True})["ok"]
    assert call(alice, "profile", {"name": "bob"})["profile"]["away"] is False
    cards = call(alice, "profiles", {"names": ["alice", "bob"]})["profiles"]
    assert {card["user"]: card["away"] for card in cards} == {"alice": True, "bob": False}

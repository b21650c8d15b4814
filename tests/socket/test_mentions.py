"""Mentions (issue 18) through the Socket.IO handlers: ``@name``, ``@room`` and ``@here`` are
stored with the message, carried in its payload, counted per room and listed by ``mentions``.

Attacks tried: @room in a public room by someone who does not own it, mentioning someone who
cannot read the room, an e-mail address, and reading mentions of a room one was put out of.
"""
import pytest
from sqlalchemy import select

from tests.socket.conftest import call, received
from tests.socket.test_reads import joined, post
from webapp import accounts
from webapp.extensions import db, socketio
from webapp.models import Mention

ROOM = "general"


@pytest.fixture
def people(app):
    """``people("alice", "bob", admin="root")``: one connection each, by name."""
    def _people(*names, admin=None):
        clients = {}
        with app.app_context():
            for name in (*names, *([admin] if admin else [])):
                user = accounts.create_user(name, "long enough password", admin=name == admin)
                clients[name] = accounts.create_token(user, "t")[1]
        return {name: socketio.test_client(app, auth={"token": token})
                for name, token in clients.items()}
    return _people


def counts(client, room=ROOM):
    listed = {r["name"]: r for r in call(client, "rooms")["rooms"]}
    return listed[room]["unread"], listed[room]["mentions"]


def mentioned(app, message_id):
    with app.app_context():
        return sorted(db.session.execute(select(Mention.user_id, Mention.via).where(
            Mention.message_id == message_id)).all())


def test_a_name_is_a_mention_counted_until_read(people):
    p = people("alice", "bob")
    for client in p.values():
        joined(client)
    msg = post(p["alice"], "hey @Bob, and @nobody, see mail@bob.example")
    assert msg["mentions"] == ["bob"] and msg["mentions_all"] is None
    [event] = received(p["bob"], "message")
    assert (event[0] if isinstance(event, list) else event)["mentions"] == ["bob"]
    assert counts(p["bob"]) == (1, 1)
    assert call(p["bob"], "history", {"room": ROOM})["messages"][-1]["mentions"] == ["bob"]
    assert call(p["bob"], "read", {"room": ROOM, "id": msg["id"]})["mentions"] == 0
    assert post(p["alice"], "plain words")["mentions"] == []
    assert counts(p["bob"]) == (1, 0)


def test_only_people_who_can_read_the_room_are_mentioned(app, people):
    p = people("alice", "bob", "carol")
    assert call(p["alice"], "create_room", {"room": "vault", "private": True})["ok"]
    assert call(p["alice"], "invite", {"room": "vault", "user": "bob"})["ok"]
    joined(p["alice"], "vault")
    msg = post(p["alice"], "@bob @carol @alice", room="vault")
    assert msg["mentions"] == ["bob"]  # carol is not in the room; alice is herself


def test_edits_and_deletions_change_who_is_mentioned(app, people):
    p = people("alice", "bob", "carol")
    for client in p.values():
        joined(client)
    msg = post(p["alice"], "@bob look")
    edited = call(p["alice"], "edit", {"room": ROOM, "id": msg["id"], "text": "@carol look"})
    assert edited["message"]["mentions"] == ["carol"]
    assert counts(p["bob"])[1] == 0 and counts(p["carol"])[1] == 1
    call(p["alice"], "delete_message", {"room": ROOM, "id": msg["id"]})
    assert counts(p["carol"]) == (0, 0) and mentioned(app, msg["id"]) == []


def test_at_room_in_a_public_room_is_for_its_owner_and_admins(app, people):
    p = people("alice", "bob", admin="root")
    for client in p.values():
        joined(client)
    plain = post(p["alice"], "@room listen up")
    assert plain["mentions_all"] is None and mentioned(app, plain["id"]) == []
    loud = post(p["root"], "@room listen up")
    assert loud["mentions_all"] == "room"
    assert {via for _, via in mentioned(app, loud["id"])} == {"room"}
    assert counts(p["alice"])[1] == 1 and counts(p["bob"])[1] == 1


def test_at_room_is_rate_limited_then_plain(app, people):
    app.config["RATE_LIMIT_MENTION_ALL"] = "1 per hour"
    from webapp.extensions import ratelimits
    ratelimits.init_app(app)
    p = people("alice", admin="root")
    for client in p.values():
        joined(client)
    assert post(p["root"], "@here one")["mentions_all"] == "here"
    assert post(p["root"], "@here two")["mentions_all"] is None


def test_at_here_reaches_the_members_present(app, people):
    p = people("alice", "bob", "carol")
    assert call(p["alice"], "create_room", {"room": "team", "private": True})["ok"]
    for name in ("bob", "carol"):
        assert call(p["alice"], "invite", {"room": "team", "user": name})["ok"]
    joined(p["alice"], "team")
    joined(p["bob"], "team")  # carol is away
    msg = post(p["alice"], "@here quick one", room="team")
    assert msg["mentions_all"] == "here"
    assert counts(p["bob"], "team")[1] == 1 and counts(p["carol"], "team")[1] == 0
    everyone = post(p["alice"], "@room all of you", room="team")
    assert everyone["mentions_all"] == "room" and counts(p["carol"], "team")[1] == 1


def test_the_mentions_view_pages_through_readable_rooms(app, people):
    p = people("alice", "bob")
    joined(p["alice"])
    assert call(p["alice"], "create_room", {"room": "vault", "private": True})["ok"]
    assert call(p["alice"], "invite", {"room": "vault", "user": "bob"})["ok"]
    joined(p["alice"], "vault")
    ids = [post(p["alice"], f"@bob {i}")["id"] for i in range(3)]
    secret = post(p["alice"], "@bob secret", room="vault")["id"]
    page = call(p["bob"], "mentions", {"limit": 2})
    assert [m["id"] for m in page["messages"]] == [secret, ids[2]]
    assert page["messages"][0]["room"] == "vault"
    rest = call(p["bob"], "mentions", {"before": page["next"]})
    assert [m["id"] for m in rest["messages"]] == [ids[1], ids[0]] and rest["next"] is None
    assert call(p["alice"], "kick", {"room": "vault", "user": "bob"})["ok"]
    assert [m["id"] for m in call(p["bob"], "mentions")["messages"]] == ids[::-1]


@pytest.mark.parametrize("payload, code", [
    ([1], "invalid_payload"),
    ({"limit": 0}, "invalid_payload"),
    ({"limit": 101}, "invalid_payload"),
    ({"before": "x"}, "invalid_payload"),
])
def test_bad_mentions_requests_are_refused(people, payload, code):
    bob = people("bob")["bob"]
    ack = call(bob, "mentions", payload)
    assert ack["ok"] is False and ack["error"]["code"] == code
    assert call(bob, "mentions")["ok"]


def test_guests_have_no_mentions(connect):
    assert call(connect("gus"), "mentions")["error"]["code"] == "account_required"

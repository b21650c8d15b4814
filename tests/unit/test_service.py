"""The chat service without sockets: who may do what, what is stored, what the payloads look like."""
import re

import pytest
from sqlalchemy import func, select

from webapp import accounts
from webapp.chat import service
from webapp.errors import AppError
from webapp.extensions import db
from webapp.models import Message, Room

ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield


def guest(name: str, sid: str | None = None) -> service.Member:
    return service.connect({"name": name}, sid or f"sid-{name}")


def stored_messages() -> int:
    return db.session.scalar(select(func.count()).select_from(Message))


def test_general_exists_from_the_migration(ctx):
    assert [room["name"] for room in service.list_rooms()] == ["general"]


def test_a_name_online_is_refused_case_insensitively(ctx):
    guest("alice")
    with pytest.raises(AppError) as err:
        guest("ALICE", "other-sid")
    assert err.value.code == "name_taken"


def test_a_name_is_free_again_after_disconnect(ctx):
    alice = guest("alice")
    service.disconnect(alice)
    assert guest("alice", "new-sid").name == "alice"


@pytest.mark.parametrize("auth", [None, "alice", ["alice"], {}, {"name": ""}, {"name": "a b"}])
def test_connect_needs_a_valid_name(ctx, auth):
    with pytest.raises(AppError) as err:
        service.connect(auth, "sid")
    assert err.value.code in {"auth_required", "invalid_name"}


def test_a_guest_cannot_take_a_registered_name(ctx):
    accounts.create_user("Carol", "long enough password")
    with pytest.raises(AppError) as err:
        guest("carol")
    assert err.value.code == "name_registered"


def test_guests_can_be_switched_off(app, ctx):
    app.config["GUESTS_ALLOWED"] = False
    with pytest.raises(AppError) as err:
        guest("alice")
    assert err.value.code == "guests_disabled"


def test_a_token_identifies_its_user_and_messages_are_not_guest(ctx):
    user = accounts.create_user("robot", "long enough password")
    _, clear = accounts.create_token(user, "ci")
    member = service.connect({"token": clear, "name": "mallory"}, "sid-r")
    assert (member.name, member.guest, member.user_id) == ("robot", False, user.id)
    service.join(member, {"room": "general"})
    msg, _ = service.post_message(member, {"room": "general", "text": "beep"})
    assert msg["author"] == "robot" and msg["guest"] is False


@pytest.mark.parametrize("token", ["", "pt_nope", "x" * 10_000, 12, None])
def test_bad_tokens_are_refused(ctx, token):
    with pytest.raises(AppError) as err:
        service.connect({"token": token}, "sid")
    assert err.value.code == "invalid_token"


def test_a_revoked_token_or_banned_user_is_refused(ctx):
    user = accounts.create_user("robot", "long enough password")
    token, clear = accounts.create_token(user, "ci")
    accounts.revoke_token(user, token.id)
    with pytest.raises(AppError):
        service.connect({"token": clear}, "sid")
    _, clear2 = accounts.create_token(user, "ci2")
    accounts.ban("robot")
    with pytest.raises(AppError):
        service.connect({"token": clear2}, "sid")
    with pytest.raises(AppError) as err:
        service.connect({}, "sid", user=user)
    assert err.value.code == "banned"


def test_messages_over_the_rate_limit_are_refused_and_not_stored(app, ctx):
    alice = guest("alice")
    service.join(alice, {"room": "general"})
    sent = refused = 0
    for _ in range(40):  # the default is 30 per 10 seconds
        try:
            service.post_message(alice, {"room": "general", "text": "spam"})
            sent += 1
        except AppError as exc:
            assert exc.code == "rate_limited"
            assert 0 < exc.to_dict()["retry_after"] <= 10  # the window is 10 seconds
            refused += 1
    assert (sent, refused) == (30, 10) and stored_messages() == 30


def test_join_creates_a_public_room_and_answers_members_and_history(ctx):
    alice = guest("alice")
    ack, change = service.join(alice, {"room": "new-room"})
    assert change == (True, True)  # news for the connection and for the room
    assert ack["ok"] is True
    assert ack["room"]["name"] == "new-room" and ack["room"]["kind"] == "public"
    assert ack["members"] == ["alice"] and ack["history"] == []
    assert db.session.scalar(select(Room).where(Room.name == "new-room")) is not None
    _, again = service.join(alice, {"room": "new-room"})
    assert again == (False, False)  # joining twice is not news


def test_message_shape_and_author_from_the_connection(ctx):
    alice = guest("alice")
    service.join(alice, {"room": "general"})
    msg, new = service.post_message(alice, {"room": "general", "text": " hi ", "author": "mallory"})
    assert new is True
    assert set(msg) == {"id", "room", "author", "guest", "text", "created_at", "client_id",
                        "seq", "edited_at", "reply_to", "reply_count", "reactions", "pinned",
                        "files", "mentions", "mentions_all", "posted_seq"}
    assert msg["mentions"] == [] and msg["mentions_all"] is None and msg["posted_seq"] == msg["seq"]
    assert msg["seq"] >= 1 and msg["edited_at"] is None and msg["reply_to"] is None
    assert msg["reply_count"] == 0 and msg["reactions"] == [] and msg["pinned"] is False
    assert msg["author"] == "alice" and msg["text"] == " hi " and msg["room"] == "general"
    assert msg["guest"] is True and msg["client_id"] is None and ISO_UTC.fullmatch(msg["created_at"])


def test_repeated_client_id_returns_the_stored_message(ctx):
    alice = guest("alice")
    service.join(alice, {"room": "general"})
    first, new1 = service.post_message(alice, {"room": "general", "text": "a", "client_id": "c-1"})
    second, new2 = service.post_message(alice, {"room": "general", "text": "a", "client_id": "c-1"})
    assert (new1, new2) == (True, False)
    assert second == first and stored_messages() == 1


def test_the_same_client_id_from_another_author_is_another_message(ctx):
    alice, bob = guest("alice"), guest("bob")
    for member in (alice, bob):
        service.join(member, {"room": "general"})
    a, _ = service.post_message(alice, {"room": "general", "text": "a", "client_id": "same"})
    b, _ = service.post_message(bob, {"room": "general", "text": "b", "client_id": "same"})
    assert a["id"] != b["id"] and stored_messages() == 2


@pytest.mark.parametrize("action", ["post_message", "typing", "history"])
def test_only_members_act_in_a_room(ctx, action):
    alice = guest("alice")
    with pytest.raises(AppError) as err:
        getattr(service, action)(alice, {"room": "general", "text": "x", "typing": True})
    assert err.value.code == "not_in_room"
    assert stored_messages() == 0


def test_leaving_ends_membership(ctx):
    alice = guest("alice")
    service.join(alice, {"room": "general"})
    assert service.leave(alice, {"room": "general"}) == ("general", (True, True))
    with pytest.raises(AppError):
        service.post_message(alice, {"room": "general", "text": "x"})


def test_history_pages_in_ascending_order(ctx):
    alice = guest("alice")
    service.join(alice, {"room": "general"})
    room_id = db.session.scalar(select(Room.id).where(Room.name == "general"))
    rows = [Message(room_id=room_id, author="alice", text=str(i)) for i in range(120)]
    db.session.add_all(rows)
    db.session.commit()
    ids = [row.id for row in rows]
    assert ids == sorted(ids)
    page = service.history(alice, {"room": "general"})
    assert [m["id"] for m in page] == ids[-50:]
    older = service.history(alice, {"room": "general", "before": ids[-50], "limit": 100})
    assert [m["id"] for m in older] == ids[-150:-50][-100:]
    newer = service.history(alice, {"room": "general", "after": ids[9], "limit": 5})
    assert [m["id"] for m in newer] == ids[10:15]
    window = service.history(alice, {"room": "general", "after": ids[0], "before": ids[4]})
    assert [m["id"] for m in window] == ids[1:4]
    _, _ = service.join(guest("bob"), {"room": "general"})
    ack, _ = service.join(alice, {"room": "general"})
    assert [m["id"] for m in ack["history"]] == ids[-50:]


def test_history_is_per_room(ctx):
    alice = guest("alice")
    service.join(alice, {"room": "general"})
    service.join(alice, {"room": "other"})
    service.post_message(alice, {"room": "other", "text": "elsewhere"})
    assert service.history(alice, {"room": "general"}) == []


def test_typing_event_shape(ctx):
    alice = guest("alice")
    service.join(alice, {"room": "general"})
    assert service.typing(alice, {"room": "general", "typing": False}) == {
        "room": "general", "user": "alice", "typing": False,
    }


def test_disconnect_leaves_every_room(ctx):
    alice, bob = guest("alice"), guest("bob")
    for room in ("general", "other"):
        service.join(alice, {"room": room})
    service.join(bob, {"room": "general"})
    assert sorted(room for room, _ in service.disconnect(alice)) == ["general", "other"]
    assert service.members("general") == ["bob"] and service.members("other") == []

"""Private rooms, direct conversations and moderation through the Socket.IO handlers.

Attacks tried: a non-member joining, posting to, reading or watching a private room or a DM;
a guest creating private rooms; non-owners kicking; non-admins deleting and banning.
"""

from tests.socket.conftest import call, received
from webapp import accounts
from webapp.extensions import socketio


def test_private_room_admits_only_invited_members(users, connect):
    owner, friend, stranger = users("owner"), users("friend"), users("stranger")
    guest = connect("guesty")
    assert call(owner, "create_room", {"room": "secret", "private": True})["room"]["kind"] == "private"
    assert call(owner, "join", {"room": "secret"})["ok"]
    call(owner, "message", {"room": "secret", "text": "classified"})
    for outsider in (stranger, guest):
        outsider.get_received()
        assert call(outsider, "join", {"room": "secret"})["error"]["code"] == "forbidden"
        assert call(outsider, "message", {"room": "secret", "text": "x"})["error"]["code"] == "not_in_room"
        assert call(outsider, "history", {"room": "secret"})["error"]["code"] == "not_in_room"
        assert "secret" not in [r["name"] for r in call(outsider, "rooms")["rooms"]]
    assert call(friend, "join", {"room": "secret"})["error"]["code"] == "forbidden"
    assert call(owner, "invite", {"room": "secret", "user": "friend"}) == {"ok": True}
    assert received(friend, "invited") == [{"room": "secret", "by": "owner"}]
    ack = call(friend, "join", {"room": "secret"})
    assert [m["text"] for m in ack["history"]] == ["classified"]
    call(owner, "typing", {"room": "secret", "typing": True})
    call(owner, "message", {"room": "secret", "text": "welcome"})
    # nothing of the room reached the outsiders: no message, presence or typing
    for outsider in (stranger, guest):
        assert outsider.get_received() == []


def test_guests_cannot_own_private_rooms_or_dm(connect):
    guest = connect("guesty")
    assert call(guest, "create_room", {"room": "mine", "private": True})["error"]["code"] == "forbidden"
    assert call(guest, "dm", {"user": "anyone"})["error"]["code"] == "forbidden"


def test_room_names_cannot_be_taken_twice_or_shaped_like_dms(users):
    owner = users("owner")
    assert call(owner, "create_room", {"room": "general"})["error"]["code"] == "room_exists"
    assert call(owner, "create_room", {"room": "dm-1-2"})["error"]["code"] == "forbidden"
    assert call(owner, "join", {"room": "dm-1-2"})["error"]["code"] == "forbidden"


def test_direct_messages_are_between_two(users):
    alice, bob, eve = users("alice"), users("bob"), users("eve")
    room = call(alice, "dm", {"user": "bob"})["room"]
    assert room["kind"] == "dm"
    assert received(bob, "invited") == [{"room": room["name"], "by": "alice"}]
    assert call(alice, "join", {"room": room["name"]})["ok"] and call(bob, "join", {"room": room["name"]})["ok"]
    call(alice, "message", {"room": room["name"], "text": "just us"})
    assert [m["text"] for m in received(bob, "message")] == ["just us"]
    assert call(eve, "join", {"room": room["name"]})["error"]["code"] == "forbidden"
    assert call(bob, "dm", {"user": "alice"})["room"]["name"] == room["name"]  # the same conversation
    assert call(alice, "dm", {"user": "nobody"})["error"]["code"] == "not_found"


def test_owner_kicks_and_the_kicked_are_told(users):
    owner, friend, other = users("owner"), users("friend"), users("other")
    call(owner, "create_room", {"room": "club", "private": True})
    call(owner, "invite", {"room": "club", "user": "friend"})
    for client in (owner, friend):
        call(client, "join", {"room": "club"})
    assert call(other, "kick", {"room": "club", "user": "friend"})["error"]["code"] == "forbidden"
    owner.get_received(), friend.get_received()
    assert call(owner, "kick", {"room": "club", "user": "friend"}) == {"ok": True}
    assert received(friend, "kicked") == [{"room": "club", "by": "owner"}]
    assert received(owner, "presence")[-1] == {"room": "club", "user": "friend", "event": "leave", "members": ["owner"]}
    assert call(friend, "message", {"room": "club", "text": "still here?"})["error"]["code"] == "not_in_room"
    assert call(friend, "join", {"room": "club"})["error"]["code"] == "forbidden"  # private: for good


def test_admin_deletes_messages_for_everyone(users):
    admin, alice = users("root", admin=True), users("alice")
    for client in (admin, alice):
        call(client, "join", {"room": "general"})
    msg = call(alice, "message", {"room": "general", "text": "oops"})["message"]
    assert call(alice, "delete_message", {"id": msg["id"]})["error"]["code"] == "forbidden"
    alice.get_received()
    assert call(admin, "delete_message", {"id": msg["id"]}) == {"ok": True}
    assert received(alice, "message_deleted") == [
        {"id": msg["id"], "room": "general", "seq": msg["seq"] + 1, "by": "root"}]
    assert call(alice, "history", {"room": "general"})["messages"] == []
    assert call(admin, "delete_message", {"id": msg["id"]})["error"]["code"] == "not_found"


def test_admin_bans_a_user_who_is_disconnected_and_cannot_return(app, users):
    admin, mallory = users("root", admin=True), users("mallory")
    assert call(mallory, "ban", {"user": "root"})["error"]["code"] == "forbidden"
    assert call(admin, "ban", {"user": "mallory"}) == {"ok": True}
    assert not mallory.is_connected()
    with app.app_context():
        token = accounts.create_token(accounts.find_user("mallory"), "again")[1]
    assert not socketio.test_client(app, auth={"token": token}).is_connected()
    assert admin.is_connected()

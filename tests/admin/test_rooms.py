"""The console's room pages over HTTP, with the chat's test clients in the rooms: archive (and
what posting then answers), owner, members of private rooms, delete; each audited."""
from __future__ import annotations

import io

from tests.admin.conftest import PASSWORD, audited
from tests.socket.conftest import call, received
from webapp import accounts
from webapp.extensions import db, socketio
from webapp.models import Message, Room, RoomMember


def room_id(app, name) -> int:
    with app.app_context():
        return db.session.query(Room).filter_by(name=name).one().id


def account(app, name):
    """A registered user's Socket.IO test client (by token)."""
    with app.app_context():
        user = accounts.create_user(name, PASSWORD)
        token = accounts.create_token(user, "t")[1]
    client = socketio.test_client(app, auth={"token": token})
    assert client.is_connected()
    return client


def test_rooms_are_listed_and_searched(app, console, connect):
    guest = connect("gus")
    for name in ("lobby", "project-x"):
        assert call(guest, "join", {"room": name})["ok"]
    page = console.get("/admin/rooms?q=proj").text
    assert 'data-room="project-x"' in page and 'data-room="lobby"' not in page


def test_an_archived_room_is_read_only_until_unarchived(app, console, connect):
    guest = connect("gus")
    assert call(guest, "join", {"room": "old"})["ok"]
    sent = call(guest, "message", {"room": "old", "text": "before"})["message"]
    rid = room_id(app, "old")
    received(guest, "archived")
    assert console.post(f"/admin/rooms/{rid}/archive").status_code == 302
    assert received(guest, "archived") == [{"room": "old", "archived": True}]  # the page knows
    assert call(guest, "join", {"room": "old"})["room"]["archived"] is True
    for event, data in [("message", {"text": "after"}), ("message", {"text": "r", "reply_to": sent["id"]}),
                        ("react", {"id": sent["id"], "emoji": "👍", "on": True})]:
        ack = call(guest, event, {"room": "old", **data})
        assert ack["error"]["code"] == "room_archived", event
    history = call(guest, "history", {"room": "old"})
    assert [m["text"] for m in history["messages"]] == ["before"]  # still readable
    assert "archived" in console.get(f"/admin/rooms/{rid}").text
    console.post(f"/admin/rooms/{rid}/unarchive")
    assert received(guest, "archived") == [{"room": "old", "archived": False}]
    assert call(guest, "message", {"room": "old", "text": "again"})["ok"]
    assert [e.action for e in audited(app, "room_archived") + audited(app, "room_unarchived")] == [
        "room_archived", "room_unarchived"]


def test_the_owner_changes_and_private_members_are_listed_and_removed(app, console):
    alice, bob = account(app, "alice"), account(app, "bob")
    assert call(alice, "create_room", {"room": "secret", "private": True})["ok"]
    assert call(alice, "invite", {"room": "secret", "user": "bob"})["ok"]
    assert call(bob, "join", {"room": "secret"})["ok"]
    rid = room_id(app, "secret")
    page = console.get(f"/admin/rooms/{rid}").text
    assert 'data-member="alice"' in page and 'data-member="bob"' in page

    console.post(f"/admin/rooms/{rid}/owner", {"name": "bob"})
    with app.app_context():
        assert db.session.get(Room, rid).owner_id == accounts.find_user("bob").id
        alice_id = accounts.find_user("alice").id
    assert audited(app, "room_owner_changed")[0].details == {"owner": "bob"}

    received(bob, "kicked")
    console.post(f"/admin/rooms/{rid}/members/{alice_id}/remove")
    with app.app_context():
        assert db.session.get(RoomMember, (rid, alice_id)) is None
    assert call(alice, "join", {"room": "secret"})["error"]["code"] == "forbidden"
    assert audited(app, "room_member_removed")[0].details == {"user": "alice"}


def test_deleting_a_room_removes_its_messages_and_puts_everyone_out(app, console, connect):
    guest = connect("gus")
    assert call(guest, "join", {"room": "doomed"})["ok"]
    call(guest, "message", {"room": "doomed", "text": "bye"})
    rid = room_id(app, "doomed")
    assert console.post(f"/admin/rooms/{rid}/delete").status_code == 302
    with app.app_context():
        assert db.session.get(Room, rid) is None
        assert db.session.query(Message).filter_by(room_id=rid).count() == 0
    assert [k["room"] for k in received(guest, "kicked")] == ["doomed"]
    # The name is free again: a join makes a new, empty room of it.
    assert call(guest, "join", {"room": "doomed"})["history"] == []
    assert call(guest, "message", {"room": "doomed", "text": "new"})["ok"]
    assert [e.target for e in audited(app, "room_deleted")] == ["room:doomed"]


def test_uploads_to_an_archived_room_are_refused(app, console, client):
    with app.app_context():
        token = accounts.create_token(accounts.create_user("uma", PASSWORD), "t")[1]
    assert client.get("/api/rooms").status_code == 200  # makes #general
    rid = room_id(app, "general")
    console.post(f"/admin/rooms/{rid}/archive")
    response = client.post("/api/rooms/general/files", headers={"Authorization": f"Bearer {token}"},
                           data={"file": (io.BytesIO(b"hello"), "a.txt")})
    assert response.status_code == 403 and response.json["error"]["code"] == "room_archived"



def test_conversations_are_not_the_consoles(app, console):
    alice, _ = account(app, "alice"), account(app, "bob")
    dm = call(alice, "dm", {"user": "bob"})["room"]["name"]
    rid = room_id(app, dm)
    assert f'data-room="{dm}"' not in console.get("/admin/rooms").text
    assert console.get(f"/admin/rooms/{rid}").status_code == 404
    assert console.post(f"/admin/rooms/{rid}/delete").status_code == 404
    with app.app_context():
        assert db.session.get(Room, rid) is not None

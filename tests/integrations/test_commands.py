"""Slash commands over Socket.IO (the in-process test client): built-ins, unknown commands, the
``//`` escape, and custom commands answered by a real HTTP receiver on loopback."""
import pytest

from tests.socket.conftest import call, received
from webapp import accounts
from webapp.chat import service
from webapp.extensions import socketio
from webapp.integrations import commands, manage


@pytest.fixture
def sock(app, token_of):
    """Connect a registered user by token: ``sock("owner")``."""
    def _connect(name, admin=False):
        client = socketio.test_client(app, auth={"token": token_of(name, admin)})
        assert client.is_connected()
        return client
    return _connect


def test_me_posts_an_action(connect):
    alice, bob = connect("alice"), connect("bob")
    for client in (alice, bob):
        call(client, "join", {"room": "lobby"})
    bob.get_received()
    ack = call(alice, "message", {"room": "lobby", "text": "/me waves", "client_id": "c1"})
    assert ack["ok"] and ack["message"]["text"] == "waves" and ack["message"]["kind"] == "me"
    assert [(m["text"], m["kind"]) for m in received(bob, "message")] == [("waves", "me")]
    again = call(alice, "message", {"room": "lobby", "text": "/me waves", "client_id": "c1"})
    assert again["message"]["id"] == ack["message"]["id"] and received(bob, "message") == []
    history = call(bob, "history", {"room": "lobby"})["messages"]
    assert [(m["text"], m.get("kind")) for m in history] == [("waves", "me")]
    assert call(alice, "message", {"room": "lobby", "text": "/me"})["error"]["code"] == "invalid_text"


def test_unknown_commands_are_errors_and_double_slash_is_literal(connect):
    alice = connect("alice")
    call(alice, "join", {"room": "lobby"})
    ack = call(alice, "message", {"room": "lobby", "text": "/frobnicate now"})
    assert ack["error"]["code"] == "unknown_command" and ack["error"]["command"] == "frobnicate"
    assert call(alice, "history", {"room": "lobby"})["messages"] == []  # nothing stored
    literal = call(alice, "message", {"room": "lobby", "text": "//frobnicate now"})
    assert literal["message"]["text"] == "/frobnicate now" and "kind" not in literal["message"]
    assert call(alice, "message", {"room": "lobby", "text": "/ not a command"})["message"]["text"] \
        == "/ not a command"
    # a guest has no notification settings to mute (an account's /mute: below)
    assert call(alice, "message", {"room": "lobby", "text": "/mute 1h"})["error"]["code"] \
        == "forbidden"


def test_topic_by_the_owner_only_in_public_rooms(sock, connect):
    owner, other = sock("owner"), sock("other")
    call(owner, "create_room", {"room": "team"})
    for client in (owner, other):
        call(client, "join", {"room": "team"})
    other.get_received()
    assert call(other, "message", {"room": "team", "text": "/topic mine"})["error"]["code"] == "forbidden"
    assert call(owner, "message", {"room": "team", "text": "/topic Release on Friday"}) == {
        "ok": True, "topic": "Release on Friday"}
    assert received(other, "topic") == [{"room": "team", "topic": "Release on Friday", "by": "owner"}]
    assert call(connect("late"), "join", {"room": "team"})["room"]["topic"] == "Release on Friday"
    assert call(other, "history", {"room": "team"})["messages"] == []  # a topic is no message


def test_topic_by_any_member_of_a_private_room_and_invite_and_leave(sock):
    owner, friend = sock("owner"), sock("friend")
    call(owner, "create_room", {"room": "den", "private": True})
    call(owner, "join", {"room": "den"})
    assert call(owner, "message", {"room": "den", "text": "/invite @friend"}) == {"ok": True}
    assert received(friend, "invited") == [{"room": "den", "by": "owner"}]
    call(friend, "join", {"room": "den"})
    assert call(friend, "message", {"room": "den", "text": "/topic cosy"})["topic"] == "cosy"
    assert call(friend, "message", {"room": "den", "text": "/invite @nobody"})["error"]["code"] \
        == "forbidden"  # only the owner invites
    owner.get_received()
    assert call(friend, "message", {"room": "den", "text": "/leave"}) == {"ok": True, "left": "den"}
    assert [p["event"] for p in received(owner, "presence")] == ["leave"]
    assert call(friend, "message", {"room": "den", "text": "hi"})["error"]["code"] == "not_in_room"


def test_commands_lists_builtins_and_custom_ones(connect):
    alice = connect("alice")
    call(alice, "join", {"room": "lobby"})
    names = [c["name"] for c in call(alice, "commands", {"room": "lobby"})["commands"]]
    assert names == ["me", "topic", "invite", "leave", "mute"]
    assert call(alice, "commands", {"room": "elsewhere"})["error"]["code"] == "not_in_room"



def add_command(app, owner: str, room: str, name: str, url: str) -> str:
    """Register ``/name`` in ``room`` as ``owner``; answers its signing secret."""
    with app.app_context():
        member = service.connect(None, None, user=accounts.find_user(owner))
        return manage.add_command(member, room, {"name": name, "url": url}, commands.BUILTINS)[1]


@pytest.mark.parametrize("answer,shown", [
    ({"text": "Sunny, 21 °C", "response_type": "in_channel"}, "room"),
    ({"text": "Only you see this"}, "ack"),  # ephemeral is the default, as in Slack
])
def test_custom_command_answers(loopback_allowed, sock, receiver, answer, shown):
    target = receiver([(200, answer)])
    owner, other = sock("owner"), sock("other")
    call(owner, "create_room", {"room": "team"})
    secret = add_command(loopback_allowed, "owner", "team", "weather", target.url)
    for c in (owner, other):
        call(c, "join", {"room": "team"})
    owner.get_received()
    ack = call(other, "message", {"room": "team", "text": "/weather Paris"})
    [request] = target.requests
    assert target.signed(request, secret)
    assert request["json"] == {"command": "/weather", "text": "Paris", "room": "team",
                               "user": {"name": "other", "guest": False, "id": 2}}
    if shown == "room":
        assert ack["message"]["author"] == "weather" and ack["message"]["bot"] is True
        assert [m["text"] for m in received(owner, "message")] == ["Sunny, 21 °C"]
    else:
        assert ack == {"ok": True, "ephemeral": {"command": "/weather", "text": "Only you see this"}}
        assert received(owner, "message") == []
    assert "weather" in [c["name"] for c in call(other, "commands", {"room": "team"})["commands"]]


@pytest.mark.parametrize("answer", [(500, "oops"), (200, "not json"), (200, {"text": ""}),
                                    (302, {"text": "moved"})])
def test_a_failing_custom_command_is_an_error(loopback_allowed, sock, receiver, answer):
    target = receiver([answer])
    owner = sock("owner")
    call(owner, "create_room", {"room": "team"})
    add_command(loopback_allowed, "owner", "team", "broken", target.url)
    call(owner, "join", {"room": "team"})
    assert call(owner, "message", {"room": "team", "text": "/broken"})["error"]["code"] \
        == "command_failed"
    assert call(owner, "history", {"room": "team"})["messages"] == []


def test_a_command_whose_target_turned_private_is_refused(loopback_allowed, sock, receiver):
    target = receiver()
    owner = sock("owner")
    call(owner, "create_room", {"room": "team"})
    add_command(loopback_allowed, "owner", "team", "hook", target.url)
    loopback_allowed.config["WEBHOOK_ALLOWED_NETWORKS"] = []  # checked again at each call
    call(owner, "join", {"room": "team"})
    assert call(owner, "message", {"room": "team", "text": "/hook"})["error"]["code"] \
        == "target_refused"
    assert target.requests == []


def test_mute_sets_the_rooms_notifications(sock, connect):
    """/mute is set_notify for the room (webapp/notify/settings.py); guests have no settings."""
    bob = sock("bob")
    call(bob, "join", {"room": "lobby"})
    for_8h = call(bob, "message", {"room": "lobby", "text": "/mute 8h"})
    assert for_8h["ok"] and for_8h["room"]["room"] == "lobby" and for_8h["room"]["muted_until"]
    shown = call(bob, "notify_settings", {"room": "lobby"})
    assert shown["room"]["muted_until"] == for_8h["room"]["muted_until"]
    assert call(bob, "message", {"room": "lobby", "text": "/mute"})["room"]["muted_until"] == "forever"
    assert call(bob, "message", {"room": "lobby", "text": "/mute off"})["room"]["muted_until"] is None
    bad = call(bob, "message", {"room": "lobby", "text": "/mute for a while"})
    assert bad["error"]["code"] == "invalid_mute"
    assert call(bob, "history", {"room": "lobby"})["messages"] == []  # nothing was posted
    guest = connect("gus")
    call(guest, "join", {"room": "lobby"})
    assert call(guest, "message", {"room": "lobby", "text": "/mute"})["ok"] is False

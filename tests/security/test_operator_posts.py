"""Operator posts (``flask chat post``) share neither names nor idempotency with chat users.

Attack: an operator posts into a private room as author ``A`` with a guessable client id ``C``
(``deploy-4711``). A guest who takes the name ``A`` and sends ``C`` must neither read that post
(the retry path answers the stored message) nor swallow a later one; and nobody may chat as the
server's own default author, ``parley``.
"""
import pytest

from webapp import accounts
from webapp.chat import external
from webapp.errors import AppError
from webapp.extensions import socketio


def call(client, event, data=None):
    return client.emit(event, data, callback=True)


@pytest.fixture
def owner(app):
    with app.app_context():
        user = accounts.create_user("owner", "long enough password")
        token = accounts.create_token(user, "t")[1]
    client = socketio.test_client(app, auth={"token": token})
    assert call(client, "create_room", {"room": "ops", "private": True})["ok"]
    return client


def test_a_guest_with_the_operators_name_and_client_id_reads_nothing(app, owner, connect):
    with app.app_context():
        posted, new = external.post("ops", "root password is hunter2", author="cron",
                                    client_id="deploy-4711")
    assert new
    guest = connect("cron")
    assert call(guest, "join", {"room": "lobby"})["ok"]
    ack = call(guest, "message", {"room": "lobby", "text": "hello", "client_id": "deploy-4711"})
    assert ack["ok"], ack
    assert ack["message"]["text"] == "hello" and ack["message"]["room"] == "lobby"
    assert ack["message"]["id"] != posted["id"]
    # ...nor does the guest pre-empt the operator's next post by sending its id first.
    guest_first = call(guest, "message", {"room": "lobby", "text": "x", "client_id": "deploy-4713"})
    with app.app_context():
        third, new_third = external.post("ops", "rollback", author="cron", client_id="deploy-4713")
    assert guest_first["ok"] and new_third
    assert third["text"] == "rollback" and third["room"] == "ops"


def test_a_client_id_used_in_another_room_answers_nothing_of_that_message(app, owner, connect):
    assert call(owner, "join", {"room": "ops"})["ok"]
    assert call(owner, "message", {"room": "ops", "text": "secret", "client_id": "c-1"})["ok"]
    assert call(owner, "join", {"room": "lobby"})["ok"]
    ack = call(owner, "message", {"room": "lobby", "text": "other", "client_id": "c-1"})
    assert ack == {"ok": False, "error": {"code": "invalid_client_id",
                                          "message": "This client_id was already used for "
                                                     "another message."}}
    # a real retry, in the same room, still answers the stored message
    again = call(owner, "message", {"room": "ops", "text": "secret", "client_id": "c-1"})
    assert again["ok"] and again["message"]["text"] == "secret"


@pytest.mark.parametrize("name", ["parley", "Parley", "PARLEY"])
def test_nobody_chats_as_the_servers_own_author(app, connect, name):
    guest = connect(name)
    assert not guest.is_connected()
    with app.app_context(), pytest.raises(AppError) as refused:
        accounts.create_user(name, "long enough password")
    assert refused.value.code == "name_reserved"

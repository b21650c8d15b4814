"""Three server processes behind nginx behave as one: chat, presence, typing, history, polling;
and each hears only the rooms it has connections in."""
import json
import time

import pytest
import redis

from tests.gateway.conftest import PlainClient
from tests.integration.conftest import flask_command
from tests.support import ChatClient, eventually, unique

pytestmark = pytest.mark.integration


@pytest.fixture
def trio(cluster):
    """alice, bob and carol, each on a different process, all in one fresh room."""
    room = unique("room")
    clients = [
        ChatClient(cluster.url, unique(name), ["websocket"], headers=cluster.cookie_for(i)).connect()
        for i, name in enumerate(("alice", "bob", "carol"))
    ]
    for client in clients:
        assert client.call("join", {"room": room})["ok"]
    yield room, clients
    for client in clients:
        client.close()


def test_nginx_spreads_new_browsers_and_keeps_each_on_its_process(cluster):
    landed = {cluster.server_of() for _ in range(30)}  # no cookie: a random process each time
    assert len(landed) > 1
    for index in range(len(cluster.servers)):
        cookie = cluster.cookie_for(index)["Cookie"].split("=", 1)[1]
        assert {cluster.server_of(cookie) for _ in range(5)} == {index}


def test_clients_on_different_processes_chat_in_one_room(trio):
    room, (alice, bob, carol) = trio
    for sender in (alice, bob, carol):
        sent = sender.call("message", {"room": room, "text": f"from {sender.name}"})["message"]
        for receiver in (alice, bob, carol):
            assert receiver.wait("message", lambda m, i=sent["id"]: m["id"] == i) == sent
    histories = [c.call("history", {"room": room})["messages"] for c in (alice, bob, carol)]
    assert histories[0] == histories[1] == histories[2]
    assert [m["author"] for m in histories[0]] == [alice.name, bob.name, carol.name]


def test_presence_and_typing_agree_on_every_process(trio, cluster):
    room, (alice, bob, carol) = trio
    everyone = sorted([alice.name, bob.name, carol.name], key=str.casefold)
    dave = ChatClient(cluster.url, unique("dave"), ["websocket"], headers=cluster.cookie_for(0))
    dave.connect()
    assert sorted(dave.call("join", {"room": room})["members"], key=str.casefold) == sorted(
        everyone + [dave.name], key=str.casefold
    )
    for client in (alice, bob, carol):
        event = client.wait("presence", lambda p: p["user"] == dave.name)
        assert event["event"] == "join" and dave.name in event["members"]

    assert carol.call("typing", {"room": room, "typing": True}) == {"ok": True}
    for client in (alice, bob, dave):
        assert client.wait("typing", lambda t: t["user"] == carol.name)["typing"] is True

    dave.close()
    for client in (alice, bob, carol):
        gone = client.wait("presence", lambda p: p["user"] == dave.name and p["event"] == "leave")
        assert sorted(gone["members"], key=str.casefold) == everyone


def test_a_name_online_on_one_process_is_refused_on_another(trio, cluster):
    _, (alice, _, _) = trio
    import socketio

    twin = socketio.Client(reconnection=False)
    errors = []
    twin.on("connect_error", errors.append)
    with pytest.raises(socketio.exceptions.ConnectionError):
        twin.connect(cluster.url, auth={"name": alice.name.upper()}, transports=["websocket"],
                     headers=cluster.cookie_for(2), wait_timeout=5)
    assert errors[0]["data"]["code"] == "name_taken"


def test_long_polling_clients_work_through_nginx(cluster):
    """No cookie given: nginx's Set-Cookie keeps each polling session on one process."""
    room = unique("poll")
    clients = [ChatClient(cluster.url, unique("p"), ["polling"]).connect() for _ in range(6)]
    try:
        for client in clients:
            assert client.call("join", {"room": room})["ok"]
        processes = {client.sio.eio.http.cookies.get("parley_node") for client in clients}
        assert len({cluster.server_of(cookie) for cookie in processes}) > 1  # really spread
        sent = clients[0].call("message", {"room": room, "text": "over long-polling"})["message"]
        for client in clients:
            assert client.wait("message", lambda m: m["id"] == sent["id"]) == sent
    finally:
        for client in clients:
            client.close()


def test_chat_post_from_a_shell_reaches_every_process(trio, cluster, postgres_url, redis_url):
    room, clients = trio
    result = flask_command("chat", "post", room, "Backup finished.", "--author", "cron",
                           DATABASE_URL=postgres_url, REDIS_URL=redis_url)
    assert result.returncode == 0, result.stderr
    stored = json.loads(result.stdout.strip().splitlines()[-1])
    assert stored["author"] == "cron" and stored["room"] == room
    for client in clients:
        assert client.wait("message", lambda m: m["text"] == "Backup finished.") == stored
    assert clients[0].call("history", {"room": room})["messages"][-1] == stored


def test_healthz_reports_database_and_redis(cluster):
    import requests

    answer = requests.get(cluster.url + "/healthz", timeout=5)
    assert answer.status_code == 200
    assert answer.json() | {"pid": 0} == {"ok": True, "degraded": False, "database": "ok",
                                          "redis": "ok", "pid": 0}


def test_closing_a_room_reaches_connections_on_every_process(cluster, redis_url):
    """What revoking a token or banning a user does: their connections close wherever they are."""
    import json
    import queue

    import redis

    from webapp.chat.cluster import CLOSE_CHANNEL

    name = unique("banned")
    victims = []
    for i in range(len(cluster.servers)):  # a registered user may be online on several processes
        client = ChatClient(cluster.url, name if i == 0 else unique("other"),
                            headers=cluster.cookie_for(i))
        closed = queue.Queue()
        client.sio.on("disconnect", lambda *_, q=closed: q.put(True))
        victims.append((client.connect(), closed))
    redis.Redis.from_url(redis_url).publish(
        CLOSE_CHANNEL, json.dumps({"op": "close", "room": f"guest:{name.casefold()}"})
    )
    victims[0][1].get(timeout=5)
    assert not victims[0][0].sio.connected
    assert all(client.sio.connected for client, _ in victims[1:])  # nobody else
    for client, _ in victims:
        client.close()


class ProfileWatcher(ChatClient):
    EVENTS = (*ChatClient.EVENTS, "profile")


def test_a_profile_change_made_on_any_process_reaches_the_rooms_on_every_process(
        cluster, postgres_url):
    """alice is in a room through process 0, bob through 1; alice changes her profile by REST on
    process 2, where she has no connection: both hear of it."""
    import requests

    alice_name, room = unique("alice"), unique("faces")
    made = flask_command("users", "create", alice_name, "--password", "a long password here",
                         DATABASE_URL=postgres_url)
    assert made.returncode == 0, made.stderr
    token = flask_command("tokens", "create", alice_name, "t", DATABASE_URL=postgres_url)
    token = token.stdout.strip().splitlines()[-1]
    alice = ProfileWatcher(cluster.url, alice_name, ["websocket"], headers=cluster.cookie_for(0))
    bob = ProfileWatcher(cluster.url, unique("bob"), ["websocket"], headers=cluster.cookie_for(1))
    alice.connect(token=token)
    bob.connect()
    try:
        for client in (alice, bob):
            assert client.call("join", {"room": room})["ok"]
        answer = requests.patch(cluster.url + "/api/me/profile", timeout=10,
                                json={"display_name": "Alice"},
                                headers={"Authorization": f"Bearer {token}", **cluster.cookie_for(2)})
        assert answer.status_code == 200, answer.text
        card = answer.json()["profile"]
        for client in (alice, bob):
            assert client.wait("profile") == card
    finally:
        alice.close()
        bob.close()


# -- a process hears only its rooms (webapp/server/messagequeue.py) -----------------------------
def _subscribers(redis_url: str, room: str) -> int:
    """How many processes are subscribed to ``room``'s channel of the message queue."""
    channel = f"flask-socketio:room:{room}"
    return dict(redis.Redis.from_url(redis_url).pubsub_numsub(channel))[channel.encode()]


def test_a_process_subscribes_to_a_room_while_it_has_someone_in_it(cluster, redis_url):
    room = unique("routed")
    alice, bob, alice_too = (
        ChatClient(cluster.url, unique(name), ["websocket"], headers=cluster.cookie_for(i)).connect()
        for name, i in (("alice", 0), ("bob", 1), ("alice2", 0))
    )
    try:
        assert _subscribers(redis_url, room) == 0
        assert alice.call("join", {"room": room})["ok"]
        assert _subscribers(redis_url, room) == 1  # confirmed before the join was answered
        assert bob.call("join", {"room": room})["ok"]
        assert _subscribers(redis_url, room) == 2
        assert alice_too.call("join", {"room": room})["ok"]
        assert _subscribers(redis_url, room) == 2  # one subscription a process, not a connection
        # Each connection's own room too: an emit to one connection finds its process.
        assert _subscribers(redis_url, bob.sio.get_sid()) == 1
        # Across processes, both ways; the third process, with nobody in the room, hears none.
        for sender in (alice, bob):
            sent = sender.call("message", {"room": room, "text": f"from {sender.name}"})["message"]
            for receiver in (alice, bob, alice_too):
                assert receiver.wait("message", lambda m, i=sent["id"]: m["id"] == i) == sent
        assert alice.call("leave", {"room": room})["ok"]
        assert _subscribers(redis_url, room) == 2  # alice_too is still in it there
        alice_too.close()
        assert eventually(lambda: _subscribers(redis_url, room) == 1)
        sent = bob.call("message", {"room": room, "text": "process 0 has left"})["message"]
        assert bob.wait("message", lambda m: m["id"] == sent["id"]) == sent
    finally:
        for client in (alice, bob, alice_too):
            client.close()
    assert eventually(lambda: _subscribers(redis_url, room) == 0)


def test_a_gateway_connection_subscribes_its_process_too(cluster, redis_url):
    room = unique("routed")
    alice = ChatClient(cluster.url, unique("alice"), ["websocket"],
                       headers=cluster.cookie_for(0)).connect()
    plain = PlainClient(cluster.servers[1].url, name=unique("bob"), room=room)
    try:
        assert plain.reply()["room"]["name"] == room
        assert _subscribers(redis_url, room) == 1
        assert alice.call("join", {"room": room})["ok"]
        assert _subscribers(redis_url, room) == 2
        sent = alice.call("message", {"room": room, "text": "to a plain socket elsewhere"})
        assert plain.wait("message") == sent["message"]
        plain.close()
        assert eventually(lambda: _subscribers(redis_url, room) == 1)
    finally:
        alice.close()


def test_a_process_of_the_previous_release_still_hears_every_room(cluster, redis_url):
    """A rolling deploy: a process that reads only the one shared channel (the release before
    room channels) still gets room events there, and this release's processes each get them once."""
    room = unique("rolling")
    old = redis.Redis.from_url(redis_url).pubsub(ignore_subscribe_messages=True)
    old.subscribe("flask-socketio")
    alice, bob = (
        ChatClient(cluster.url, unique(name), ["websocket"], headers=cluster.cookie_for(i)).connect()
        for name, i in (("alice", 0), ("bob", 1))
    )
    try:
        for client in (alice, bob):
            assert client.call("join", {"room": room})["ok"]
        sent_ids: list[int] = []

        def old_process_hears_one() -> bool:
            # Processes look for older ones every LEGACY_CHECK seconds: send until one is heard.
            sent_ids.append(alice.call("message", {"room": room, "text": "hello"})["message"]["id"])
            deadline = time.monotonic() + 1.0
            while (left := deadline - time.monotonic()) > 0:
                got = old.get_message(timeout=left)
                if got is not None:
                    event = json.loads(got["data"])
                    if event.get("room") == room and event["data"][0]["id"] == sent_ids[-1]:
                        return True
            return False
        assert eventually(old_process_hears_one, timeout=15, interval=0)
        barrier = alice.call("message", {"room": room, "text": "the last"})["message"]
        heard = []
        while (message := bob.wait("message", lambda m: m["room"] == room))["id"] != barrier["id"]:
            heard.append(message["id"])
        assert heard == sent_ids  # each once, in order: the flagged copies were dropped
    finally:
        old.close()
        for client in (alice, bob):
            client.close()

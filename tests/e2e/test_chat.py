"""The real eventlet server (`python wsgi.py`) driven by python-socketio clients over real sockets."""
import queue
import re
import subprocess
import sys

import pytest
import requests
import socketio

from tests.support import ROOT, ChatClient, unique

TRANSPORTS = {"websocket": ["websocket"], "polling": ["polling"]}


@pytest.fixture(params=sorted(TRANSPORTS))
def pair(request, live_server):
    """Two connected clients in one fresh room, over the transport under test."""
    room = unique("room")
    clients = [
        ChatClient(live_server.url, unique(name), TRANSPORTS[request.param]).connect()
        for name in ("alice", "bob")
    ]
    for client in clients:
        assert client.call("join", {"room": room})["ok"]
    yield room, *clients
    for client in clients:
        client.close()


def test_the_page_and_its_static_files_are_served(live_server):
    page = requests.get(live_server.url + "/", timeout=5)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    vendored = requests.get(live_server.url + "/static/vendor/socket.io.min.js", timeout=5)
    assert vendored.status_code == 200 and "io" in vendored.text


def test_one_connections_messages_are_stored_and_delivered_in_the_order_sent(pair):
    room, alice, bob = pair
    # back to back, no waiting for acks in between (over long-polling, several to a request)
    acks, texts = queue.Queue(), [f"burst {i}" for i in range(25)]  # under RATE_LIMIT_MESSAGE
    for text in texts:
        alice.sio.emit("message", {"room": room, "text": text}, callback=acks.put)
    seen = [bob.wait("message", lambda m: m["room"] == room)["text"] for _ in texts]
    assert seen == texts
    stored = [acks.get(timeout=10)["message"] for _ in texts]
    assert [m["text"] for m in stored] == texts
    assert [m["id"] for m in stored] == sorted(m["id"] for m in stored)


def test_two_clients_chat(pair):
    room, alice, bob = pair
    ack = alice.call("message", {"room": room, "text": "hello bob", "client_id": "m-1"})
    assert ack["ok"] and ack["message"]["author"] == alice.name
    got = bob.wait("message", lambda m: m["room"] == room)
    assert got == ack["message"]
    assert alice.wait("message", lambda m: m["room"] == room) == ack["message"]
    reply = bob.call("message", {"room": room, "text": "hi alice"})
    assert alice.wait("message", lambda m: m["text"] == "hi alice")["id"] == reply["message"]["id"]
    assert reply["message"]["id"] > ack["message"]["id"]


def test_presence_and_typing_arrive(pair, live_server):
    room, alice, bob = pair
    carol = ChatClient(live_server.url, unique("carol"), bob.transports).connect()
    joined = carol.call("join", {"room": room})
    assert sorted(joined["members"]) == sorted([alice.name, bob.name, carol.name])
    event = alice.wait("presence", lambda p: p["user"] == carol.name)
    assert event["event"] == "join" and carol.name in event["members"]

    assert carol.call("typing", {"room": room, "typing": True}) == {"ok": True}
    assert bob.wait("typing", lambda t: t["user"] == carol.name) == {
        "room": room, "user": carol.name, "typing": True,
    }
    carol.close()  # a dropped connection is a leave for everyone else
    gone = alice.wait("presence", lambda p: p["user"] == carol.name and p["event"] == "leave")
    assert carol.name not in gone["members"]


def test_a_name_online_is_refused_with_a_clear_connect_error(live_server):
    name = unique("dup")
    first = ChatClient(live_server.url, name).connect()
    second = socketio.Client(reconnection=False)
    errors = []
    second.on("connect_error", errors.append)
    with pytest.raises(socketio.exceptions.ConnectionError):
        second.connect(live_server.url, auth={"name": name}, wait_timeout=5)
    assert errors and errors[0]["data"]["code"] == "name_taken" and name in errors[0]["message"]
    first.close()


@pytest.mark.parametrize(
    "event,data,code",
    [
        ("message", {"text": "no room"}, "invalid_room"),
        ("message", "not an object", "invalid_payload"),
        ("message", {"room": "ROOM", "text": "x"}, "invalid_room"),
        ("message", {"room": "other-room", "text": "x"}, "not_in_room"),
        ("history", {"room": "other-room"}, "not_in_room"),
        ("typing", {"room": "other-room", "typing": True}, "not_in_room"),
        ("frobnicate", {}, "unknown_event"),
    ],
)
def test_bad_input_over_the_wire(pair, event, data, code):
    room, alice, bob = pair
    ack = alice.call(event, data)
    assert ack["ok"] is False and ack["error"]["code"] == code
    assert alice.call("history", {"room": room})["messages"] == []  # nothing stored
    ok = alice.call("message", {"room": room, "text": "after the bad one"})
    assert bob.wait("message", lambda m: m["room"] == room)["id"] == ok["message"]["id"]


def test_history_survives_a_server_restart(fresh_server):
    fresh_server.start()
    room = unique("kept")
    alice = ChatClient(fresh_server.url, "alice").connect()
    alice.call("join", {"room": room})
    sent = [alice.call("message", {"room": room, "text": f"n{i}"})["message"] for i in range(3)]
    alice.close()
    fresh_server.stop()
    fresh_server.start()
    back = ChatClient(fresh_server.url, "alice").connect()
    assert back.call("join", {"room": room})["history"] == sent
    assert [r["name"] for r in back.call("rooms")["rooms"]] == sorted(["general", room])
    back.close()


def test_the_example_script_runs(live_server):
    room = unique("ex")
    watcher = ChatClient(live_server.url, unique("watch")).connect()
    watcher.call("join", {"room": room})
    result = subprocess.run(
        [sys.executable, "examples/chat_client.py", "--url", live_server.url, "--room", room,
         "--listen", "0", "Hello from the example"],
        check=False, cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "Hello from the example" in result.stdout
    assert watcher.wait("message", lambda m: m["room"] == room)["text"] == "Hello from the example"
    watcher.close()


@pytest.mark.parametrize("account", [True, False], ids=["token", "guest"])
def test_the_bot_example_answers_in_its_rooms(live_server, account):
    room = unique("bot")
    bot_name = unique("pingbot")
    if account:  # an account's bot also edits its answer (guests cannot edit)
        live_server.flask("users", "create", bot_name, "--password", "a long password here")
        who = ["--token", live_server.flask("tokens", "create", bot_name, "bot")]
    else:
        who = ["--name", bot_name]
    bot = subprocess.Popen(
        [sys.executable, "-m", "examples.bot", "--url", live_server.url, *who, "--for", "60", room],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert bot.stdout.readline().startswith("listening in"), bot.stderr.read()
        user = ChatClient(live_server.url, unique("user"))
        for event in ("reaction", "message_edited"):
            user.queues[event] = queue.Queue()
            user.sio.on(event, user.queues[event].put)
        user.connect()
        user.call("join", {"room": room})
        ping = user.call("message", {"room": room, "text": "!ping"})["message"]
        seen = user.wait("reaction", lambda e: e["id"] == ping["id"])
        assert (seen["emoji"], seen["user"], seen["on"]) == ("👀", bot_name, True)
        answer = user.wait("message", lambda m: m["room"] == room and m["author"] == bot_name)
        assert answer["text"] == f"pong, {user.name}"
        if account:  # edited with the time the answer took
            edited = user.wait("message_edited", lambda e: e["id"] == answer["id"])
            assert re.fullmatch(rf"pong, {user.name} \(\d+ ms\)", edited["message"]["text"])
        user.close()
    finally:
        bot.terminate()
        bot.wait(10)

"""Long-polling POSTs of many packets, against the real server.

The official clients (the browser's socket.io, Node's, python-socketio) put everything queued
while a POST was under way into the next one: the page's outbox flushing after a reconnect sends
dozens of emits in one request. Only the body's size bounds a POST (MAX_HTTP_BUFFER_SIZE), and a
response still carries at most 16 packets, the most python-engineio's clients decode.
"""
from __future__ import annotations

import json
import queue
import re
import time

import pytest
import requests

from tests.support import ChatClient, LiveServer, unique

pytestmark = pytest.mark.e2e

BURST = 40
MAX_BODY = 65536  # MAX_HTTP_BUFFER_SIZE's default
MAX_PACKETS_PER_RESPONSE = 16  # engineio.payload.Payload.max_decode_packets


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # A burst of 40 messages is within one user's rate limit here (the default is 30 per 10 s).
    live = LiveServer(tmp_path_factory.mktemp("batches"), RATE_LIMIT_MESSAGE="200 per 10 seconds")
    live.start()
    yield live
    live.stop()


class Polling:
    """An Engine.IO long-polling session by hand, with requests: POST packets, GET what comes."""

    def __init__(self, url: str) -> None:
        self.url = url + "/socket.io/?EIO=4&transport=polling"
        self.http = requests.Session()
        opened = self.http.get(self.url, timeout=10)
        assert opened.status_code == 200 and opened.text.startswith("0"), opened.text
        self.url += "&sid=" + json.loads(opened.text[1:])["sid"]
        self.received: list[str] = []

    def post(self, *packets: str) -> requests.Response:
        return self.http.post(self.url, data="\x1e".join(packets).encode(), timeout=10)

    def poll(self) -> requests.Response:
        response = self.http.get(self.url, timeout=10)
        if response.status_code == 200:
            packets = response.text.split("\x1e")
            assert len(packets) <= MAX_PACKETS_PER_RESPONSE, f"{len(packets)} packets in one GET"
            if "2" in packets:  # the server's PING
                self.post("3")
            self.received.extend(packets)
        return response

    def until(self, done, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            assert time.monotonic() < deadline, f"timed out; last received: {self.received[-3:]}"
            response = self.poll()
            assert response.status_code == 200, response.text

    def acks(self) -> dict[int, list]:
        """Socket.IO ACK packets received (``43<id>[...]``) by ack id."""
        acks = (re.fullmatch(r"43(\d+)(\[.*)", pkt, re.DOTALL) for pkt in self.received)
        return {int(ack[1]): json.loads(ack[2]) for ack in acks if ack}

    def join_as_guest(self, room: str) -> None:
        self.post("40" + json.dumps({"name": unique("poller")}))
        self.until(lambda: any(p.startswith('40{"sid"') for p in self.received))
        self.post("420" + json.dumps(["join", {"room": room}]))
        self.until(lambda: 0 in self.acks())
        assert self.acks()[0][0]["ok"], self.acks()[0]


def test_forty_emits_in_one_post_are_all_acknowledged_in_order(server):
    room = unique("batch")
    session = Polling(server.url)
    session.join_as_guest(room)
    texts = {ack_id: f"batched {ack_id}" for ack_id in range(1, BURST + 1)}

    posted = session.post(*(f"42{ack_id}" + json.dumps(["message", {"room": room, "text": text}])
                            for ack_id, text in texts.items()))
    assert posted.status_code == 200 and posted.text == "ok"

    session.until(lambda: set(texts) <= set(session.acks()))
    acks = {ack_id: args[0] for ack_id, args in session.acks().items() if ack_id in texts}
    assert all(ack["ok"] for ack in acks.values()), acks
    assert {ack_id: ack["message"]["text"] for ack_id, ack in acks.items()} == texts
    ids = [acks[ack_id]["message"]["id"] for ack_id in sorted(acks)]
    assert ids == sorted(ids)  # stored in the order sent


def test_a_python_client_on_long_polling_gets_every_ack_of_a_burst(server):
    room = unique("burst")
    client = ChatClient(server.url, unique("bot"), transports=["polling"]).connect()
    try:
        client.call("join", {"room": room})
        acks: queue.Queue = queue.Queue()
        texts = [f"burst {i}" for i in range(BURST)]
        for text in texts:  # no waiting in between: queued emits share POSTs
            client.sio.emit("message", {"room": room, "text": text}, callback=acks.put)
        stored = [acks.get(timeout=15) for _ in texts]
        assert all(ack["ok"] for ack in stored), stored
        assert sorted(ack["message"]["text"] for ack in stored) == sorted(texts)
    finally:
        client.close()


def test_a_body_of_many_small_packets_is_bounded_by_its_size_alone(server):
    session = Polling(server.url)
    session.join_as_guest(unique("pongs"))
    pongs = MAX_BODY // 2  # PONG packets ("3", and a separator between two): 65,535 bytes
    accepted = session.post(*["3"] * pongs)
    assert accepted.status_code == 200 and accepted.text == "ok"
    session.post("421" + json.dumps(["rooms"]))
    session.until(lambda: 1 in session.acks())  # the session goes on

    refused = session.post(*["3"] * (pongs + 1))  # 65,537 bytes: over MAX_HTTP_BUFFER_SIZE
    assert refused.status_code == 400
    assert session.poll().status_code == 400  # and the session is over


def test_an_undecodable_post_ends_the_session(server):
    session = Polling(server.url)
    session.join_as_guest(unique("garbage"))
    assert session.post("4hello", "not a packet").status_code == 400
    assert session.poll().status_code == 400

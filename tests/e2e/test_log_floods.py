"""A 5 s database outage under load: clients get error acks, and the server's log stays small.

The server reaches PostgreSQL through a relay in this process, which the test cuts: every
connection of the server's pool is reset and new ones are refused, as when the database restarts
or the network drops it, without touching the machine's PostgreSQL. Each failure is logged as
before, but the same failure within LOG_REPEAT_SECONDS only counts (webapp/logs.py): before that,
this outage wrote ~18 MB of tracebacks.
"""
from __future__ import annotations

import os
import re
import socket
import struct
import threading
import time
import uuid

import psycopg2
import pytest
import requests
from sqlalchemy.engine import make_url

from tests.integration.conftest import admin_sql
from tests.support import ChatClient, LiveServer, eventually, unique

pytestmark = pytest.mark.e2e

PG_ADMIN_URL = os.environ.get("PARLEY_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
OUTAGE_SECONDS = 5.0
CLIENTS = 10
# Longer than the outage, so every failure of a kind falls in the interval of its first one:
# the log grows by one traceback per kind however fast the machine fails events.
REPEAT_SECONDS = 6
MAX_GROWTH = 50_000  # bytes; one traceback is ~10 KB
SUMMARY = re.compile(r"^\S+ \S+ (\w+) (\S+): (.*) \(repeated (\d+ times|once) in the last [\d.]+ s\)$",
                     re.MULTILINE)
RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (\w+) (\S+): (.*)$", re.MULTILINE)


class Relay:
    """A TCP relay to PostgreSQL that the test can cut (``cut``) and mend (``restore``)."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)  # how soon ``close`` stops the accepting thread
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._up, self._running = True, True
        self.refused = 0
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def cut(self) -> None:
        """Reset every relayed connection; refuse (reset) new ones until ``restore``."""
        with self._lock:
            self._up = False
            doomed, self._open = self._open, set()
        for sock in doomed:
            _reset(sock)

    def restore(self) -> None:
        with self._lock:
            self._up = True

    def close(self) -> None:
        self._running = False
        self.cut()
        self._thread.join(timeout=5)
        self._listener.close()

    def _accept(self) -> None:
        while self._running:
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            client.settimeout(None)
            try:
                upstream = socket.create_connection(self.target, timeout=5) if self._up else None
            except OSError:
                upstream = None
            with self._lock:
                if upstream is None or not self._up:
                    self.refused += 1
                    doomed = [client, upstream]
                else:
                    doomed = []
                    upstream.settimeout(None)
                    self._open.update((client, upstream))
            for sock in doomed:
                if sock is not None:
                    _reset(sock)
            if not doomed:
                for src, dst in ((client, upstream), (upstream, client)):
                    threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        with self._lock:
            self._open.difference_update((src, dst))
        for sock in (src, dst):
            _reset(sock)


def _reset(sock: socket.socket) -> None:
    """Close with a TCP reset, waking a thread blocked reading it."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()




@pytest.fixture
def database():
    """A fresh database on the machine's PostgreSQL, dropped afterwards; its name."""
    try:
        admin_sql("SELECT 1")
    except psycopg2.OperationalError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc}")
        pytest.skip(f"PostgreSQL is not reachable at {PG_ADMIN_URL}")
    name = f"parley_test_{uuid.uuid4().hex[:10]}"
    admin_sql(f"CREATE DATABASE {name}")
    yield name
    admin_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def relay():
    admin = make_url(PG_ADMIN_URL)
    relay = Relay((admin.host or "127.0.0.1", admin.port or 5432))
    yield relay
    relay.close()


@pytest.fixture
def server(tmp_path, database, relay):
    url = make_url(PG_ADMIN_URL).set(host="127.0.0.1", port=relay.port, database=database)
    server = LiveServer(
        tmp_path, DATABASE_URL=url.render_as_string(hide_password=False), LOG_LEVEL="INFO",
        LOG_REPEAT_SECONDS=str(REPEAT_SECONDS),
        # Steady traffic from one address; the limits are tested elsewhere (tests/security).
        RATE_LIMIT_MESSAGE="1000000 per minute", RATE_LIMIT_JOIN="1000000 per minute",
        RATE_LIMIT_FLOOD="1000000 per minute",
    )
    server.start()  # migrates the database first (flask db upgrade)
    yield server
    server.stop()


class Sender(threading.Thread):
    """One client posting a message and asking for history, over and over, until stopped."""

    def __init__(self, client: ChatClient, room: str, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.client, self.room, self.stop = client, room, stop
        self.acks: list[tuple[float, str, object]] = []  # (sent, event, ack or exception)

    def run(self) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            for event, data in (("message", {"room": self.room, "text": f"{self.client.name} {n}"}),
                                ("history", {"room": self.room, "limit": 5})):
                sent = time.monotonic()
                try:
                    ack = self.client.call(event, data, timeout=10)
                except Exception as exc:  # noqa: BLE001 - a hang or a drop: the test reports it
                    ack = exc
                self.acks.append((sent, event, ack))
            time.sleep(0.02)  # the pace of a busy client, not a wait

    def ok_messages_since(self, moment: float) -> int:
        return sum(1 for when, event, ack in list(self.acks)
                   if when > moment and event == "message" and isinstance(ack, dict) and ack["ok"])


class Poller(threading.Thread):
    """REST traffic: the room list and the health check, as a page and a load balancer ask."""

    def __init__(self, url: str, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.url, self.stop = url, stop
        # path -> (status, error code) per request; status 0: no answer
        self.answers: dict[str, list[tuple[int, str | None]]] = {"/api/rooms": [], "/healthz": []}

    def run(self) -> None:
        while not self.stop.is_set():
            for path, answers in self.answers.items():
                try:
                    response = requests.get(self.url + path, timeout=10)
                    body = response.json()
                except requests.RequestException:  # no answer, or not our JSON
                    answers.append((0, None))
                    continue
                error = body.get("error") if response.status_code == 500 else None
                answers.append((response.status_code, error and error["code"]))
            time.sleep(0.05)  # the pace of a page and a load balancer, not a wait


def wait_until(condition, timeout: float, what: str) -> None:
    assert eventually(condition, timeout), f"not within {timeout}s: {what}"


def test_an_outage_fails_events_with_acks_and_logs_each_kind_of_failure_once(server, relay):
    room, log_file = unique("outage"), server.workdir / "server.log"
    clients = [ChatClient(server.url, unique("c")).connect() for _ in range(CLIENTS)]
    for client in clients:
        assert client.call("join", {"room": room})["ok"]
    stop = threading.Event()
    senders = [Sender(client, room, stop) for client in clients]
    poller = Poller(server.url, stop)
    for thread in (*senders, poller):
        thread.start()
    try:
        start = time.monotonic()
        wait_until(lambda: all(s.ok_messages_since(start) for s in senders), 20, "warm-up")
        before = log_file.stat().st_size
        cut_at = time.monotonic()
        relay.cut()
        time.sleep(OUTAGE_SECONDS)  # the outage itself
        relay.restore()
        restored_at = time.monotonic()
        wait_until(lambda: all(s.ok_messages_since(restored_at) for s in senders), 30,
                   "every client's messages are stored again after the outage")
        # The interval of the outage's failures ends while the server runs: its summary is
        # written then (a background greenlet), not only at the next failure or at exit.
        wait_until(lambda: SUMMARY.search(server.read_log()), REPEAT_SECONDS + 20,
                   "a 'repeated N times' line")
        after = log_file.stat().st_size
    finally:
        stop.set()
        for thread in (*senders, poller):
            thread.join(timeout=15)
    for client in clients:
        client.close()
    server.stop()  # SIGTERM: counts still held are written before exit

    # Every event is answered, the one in flight at the cut itself included (its query done,
    # only the session's closing ROLLBACK fails: webapp.extensions.release_session).
    all_acks = [(sent, event, ack) for s in senders for sent, event, ack in s.acks]
    hangs = [(round(sent - cut_at, 2), event, ack) for sent, event, ack in all_acks
             if not isinstance(ack, dict)]
    assert not hangs, f"{len(hangs)} events got no ack (s after the cut, event): {hangs[:3]}"
    acks = [(sent, event, ack) for sent, event, ack in all_acks if isinstance(ack, dict)]
    failed = [ack for _, _, ack in acks if not ack["ok"]]
    for ack in failed:
        assert set(ack) == {"ok", "error"} and isinstance(ack["error"]["code"], str), ack
        assert set(ack["error"]) >= {"code", "message"}, ack
    internal = sum(1 for ack in failed if ack["error"]["code"] == "internal")
    in_outage = sum(1 for sent, _, ack in acks if cut_at < sent <= restored_at and not ack["ok"])
    assert in_outage >= CLIENTS, "the outage failed almost nothing: the test proves nothing"

    growth = after - before
    print(f"\nlog: {before} bytes before the outage, {after} after (+{growth}); "
          f"{len(acks)} acks, {internal} internal errors")
    assert growth < MAX_GROWTH, f"the log grew {growth} bytes in a {OUTAGE_SECONDS} s outage"

    # Nothing is lost, only counted: each failure is a record in full or one in a summary's count.
    log = server.read_log()
    logged = _logged(log, "webapp.errors", "unhandled error in socket event")
    assert logged == internal, (logged, internal)
    rooms_internal = poller.answers["/api/rooms"].count((500, "internal"))
    assert _logged(log, "webapp.errors", "unhandled error in request") == rooms_internal > 0
    assert (503, None) in poller.answers["/healthz"]


def _logged(log: str, logger: str, text: str) -> int:
    """Records of ``logger`` starting with ``text``: in full, plus the counts of summaries."""
    full = sum(1 for level, name, message in RECORD.findall(log)
               if name == logger and message.startswith(text) and "(repeated " not in message)
    repeated = sum(1 if count == "once" else int(count.split()[0])
                   for _, name, message, count in SUMMARY.findall(log)
                   if name == logger and message.startswith(text))
    return full + repeated

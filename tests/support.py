"""Helpers for tests that drive the real server: start it, connect clients, wait on events."""
from __future__ import annotations

import json
import os
import queue
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import closing
from pathlib import Path

import engineio
import requests
import socketio
import websocket
from requests.adapters import HTTPAdapter

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _upgrade(env: dict) -> None:
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
                   cwd=ROOT, env=env, check=True, capture_output=True, timeout=120)


_TEMPLATE: list[Path] = []


def _migrated_sqlite() -> Path:
    """A new SQLite database with every migration run, made once per test session: a hundred
    live servers would otherwise run the same fifteen migrations a hundred times."""
    if not _TEMPLATE:
        path = Path(tempfile.mkdtemp(prefix="parley-template-")) / "template.sqlite3"
        _upgrade({**os.environ, "DATABASE_URL": f"sqlite:///{path}", "LOG_LEVEL": "WARNING"})
        # The migration's process may leave its last commits in the write-ahead log: fold them
        # into the file itself (closing the last connection does), so one file is the database.
        with closing(sqlite3.connect(path)) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.execute("PRAGMA journal_mode=DELETE")
        _TEMPLATE.append(path)
    return _TEMPLATE[0]


class LiveServer:
    """``python wsgi.py`` on a free port and its own SQLite file, as the README runs it."""

    def __init__(self, workdir: Path, **env: str) -> None:
        self.workdir = Path(workdir)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "DATABASE_URL": f"sqlite:///{self.workdir / 'live.sqlite3'}",
            "FILE_DIR": str(self.workdir / "files"),
            "SECRET_KEY": "live-test-secret",
            "ASYNC_MODE": "eventlet",
            "LOG_LEVEL": "WARNING",
            # Tests share one server from one address: room creation is limited per address
            # (tests/security/test_abuse.py sets the limits it tests).
            "RATE_LIMIT_CREATE_ROOM": "100000 per hour",
            # A chat ban of an account also closes its addresses to guests for a while: here
            # that would be every test's address (tests/security/test_moderation.py sets it).
            "BAN_ADDRESS_MINUTES": "0",
            **env,
        }
        self.proc: subprocess.Popen | None = None
        self._migrated = False

    def start(self, timeout: float = 20.0) -> None:
        if not self._migrated:
            database = self.workdir / "live.sqlite3"
            if self.env["DATABASE_URL"] == f"sqlite:///{database}" and not database.exists():
                shutil.copyfile(_migrated_sqlite(), database)  # as `flask db upgrade` leaves it
            else:
                _upgrade(self.env)
            self._migrated = True
        self.log = open(self.workdir / "server.log", "ab")  # noqa: SIM115 - for the server's life
        self.proc = subprocess.Popen(
            [sys.executable, "wsgi.py"], cwd=ROOT, env=self.env, stdout=self.log, stderr=self.log
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.read_log()}")
            try:
                if requests.get(self.url + "/api/healthz", timeout=5).ok:
                    return
            # Not listening yet, or (a loaded machine) listening but too busy starting to answer
            # within the request's timeout: ask again until the deadline.
            except (requests.ConnectionError, requests.Timeout):
                pass
            time.sleep(0.05)
        raise RuntimeError(f"server did not answer in {timeout}s: {self.read_log()}")

    def stop(self, kill: bool = False) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill() if kill else self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def flask(self, *args: str) -> str:
        """Run ``flask --app wsgi ARGS`` against this server's database; answer its output."""
        result = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", *args],
            cwd=ROOT, env=self.env, check=True, capture_output=True, text=True, timeout=60,
        )
        return result.stdout.strip()

    def read_log(self) -> str:
        return (self.workdir / "server.log").read_text(errors="replace")


def unique(prefix: str) -> str:
    """A fresh name for a room or a user, so tests sharing one server never collide."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class _InOrderEngineIOClient(engineio.Client):
    """python-engineio's client hands each message to a thread of its own, so two events can
    reach a test in the other order than the server sent them (seen: a burst's broadcasts, a
    join and a leave). Here they are handled on the read loop, in the order they came: the
    handlers only put them on queues."""

    def _trigger_event(self, event, *args, **kwargs):
        if event == "message":
            kwargs["run_async"] = False
        return super()._trigger_event(event, *args, **kwargs)


class _InOrderClient(socketio.Client):
    def _engineio_client_class(self):
        return _InOrderEngineIOClient


class ChatClient:
    """A python-socketio client that records every server event in a queue per event name, in
    the order the server sent them."""

    EVENTS = ("message", "presence", "typing")

    def __init__(
        self, url: str, name: str, transports: list[str] | None = None,
        headers: dict | None = None, reconnection: bool = False,
    ) -> None:
        self.url, self.name, self.transports, self.headers = url, name, transports, headers or {}
        self.sio = _InOrderClient(reconnection=reconnection, reconnection_delay=0.2)
        self.queues: dict[str, queue.Queue] = {event: queue.Queue() for event in self.EVENTS}
        for event in self.EVENTS:
            self.sio.on(event, self.queues[event].put)
        self.disconnected = threading.Event()
        self.sio.on("disconnect", lambda *reason: self.disconnected.set())

    def connect(self, **auth) -> ChatClient:
        self.sio.connect(
            self.url, auth=auth or {"name": self.name}, transports=self.transports,
            headers=self.headers, wait_timeout=10,
        )
        return self

    def call(self, event: str, data=None, timeout: float = 10.0):
        return self.sio.call(event, data, timeout=timeout)

    def wait(self, event: str, predicate=lambda data: True, timeout: float = 10.0):
        """The next ``event`` whose data satisfies ``predicate``; earlier ones are dropped."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{self.name}: no matching '{event}' within {timeout}s")
            try:
                data = self.queues[event].get(timeout=remaining)
            except queue.Empty:
                continue
            if predicate(data):
                return data

    def close(self) -> None:
        if self.sio.connected:
            self.sio.disconnect()


class RawClient:
    """Engine.IO v4 / Socket.IO v5 by hand: open, connect with a guest name, join a room."""

    def __init__(self, url: str, name: str, room: str) -> None:
        ws_url = url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        self.ws = websocket.create_connection(ws_url, timeout=5)
        opened = self.ws.recv()
        assert opened.startswith("0"), opened
        self.ping_interval_ms = json.loads(opened[1:])["pingInterval"]
        self.ws.send("40" + json.dumps({"name": name}))
        self.recv_until(lambda p: p.startswith("40{"))
        self.ws.send("420" + json.dumps(["join", {"room": room}]))
        self.recv_until(lambda p: p.startswith("430"))  # the join's ack

    def recv_until(self, wanted) -> str:
        """The next packet ``wanted`` accepts, answering pings and skipping others meanwhile."""
        while True:
            packet = self.ws.recv()
            if packet == "2":
                self.ws.send("3")
            elif wanted(packet):
                return packet


class FromAddress(HTTPAdapter):
    """A requests adapter whose connections leave from ``address`` (another loopback address:
    127.0.0.2, ...), so the server sees a client of its own: ``session.mount("http://", ...)``."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, source_address=(self.address, 0), **kwargs)


def eventually(check, timeout: float = 5.0, interval: float = 0.05):
    """Ask ``check()`` again until it answers something true or ``timeout`` passes; answer its
    last answer (a state that reaches the server or another client a moment later)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(interval)

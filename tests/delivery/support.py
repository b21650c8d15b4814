"""The fault-injection harness: bots that send numbered messages, faults at seeded random moments,
and the final comparison of every bot's view with what the database stored."""
from __future__ import annotations

import os
import random
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select

from examples.parley_client import Outgoing, ParleyClient, ParleyError
from tests.support import LiveServer
from webapp import accounts, create_app
from webapp.extensions import db
from webapp.models import Message, Room

# The servers must test delivery, not the limits (docs/security.md has those).
UNLIMITED = {
    "RATE_LIMIT_MESSAGE": "1000000 per minute", "RATE_LIMIT_JOIN": "1000000 per minute",
    "RATE_LIMIT_FLOOD": "1000000 per minute", "RATE_LIMIT_ADDRESS_FACTOR": "1",
}


def fault_seed() -> int:
    """PARLEY_FAULT_SEED=<n> replays a run; otherwise a fresh one, printed for that purpose."""
    seed = int(os.environ.get("PARLEY_FAULT_SEED") or random.SystemRandom().randrange(10**9))
    print(f"\nPARLEY_FAULT_SEED={seed}", flush=True)
    return seed


def database_app(url: str):
    """An app in the test process on a server's database, to make bots and read what is stored."""
    return create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": url,
                       "ASYNC_MODE": "threading", "LOG_LEVEL": "WARNING"})


def make_tokens(app, names: list[str]) -> dict[str, str]:
    """Registered bots with API tokens: unlike guests, a reconnect never finds its name taken."""
    with app.app_context():
        return {name: accounts.create_token(accounts.create_user(name, "password-1234"), "bot")[1]
                for name in names}


def stored(app, room: str) -> list[dict]:
    with app.app_context():
        room_id = db.session.scalar(select(Room.id).where(Room.name == room))
        rows = db.session.scalars(select(Message).where(Message.room_id == room_id)
                                  .order_by(Message.id))
        return [{"id": m.id, "author": m.author, "text": m.text} for m in rows]


@dataclass
class Bot:
    """A ParleyClient that sends numbered messages and records what its callbacks were given."""

    name: str
    client: ParleyClient
    delivered: dict[str, list[int]] = field(default_factory=dict)
    sent: list[Outgoing] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.client.on("message", self._record)

    def _record(self, message: dict) -> None:
        self.delivered.setdefault(message["room"], []).append(message["id"])

    def send_numbered(self, rooms: list[str], count: int, rng: random.Random, stop: threading.Event,
                      pause: float = 0.1):
        """Send ``count`` messages round the rooms, ``pause`` apart on average; some go out
        without waiting for the previous ack (a burst)."""
        for n in range(count):
            if stop.is_set():
                return
            outgoing = self.client.send_nowait(rooms[n % len(rooms)], f"{self.name} #{n}")
            self.sent.append(outgoing)
            if rng.random() < 0.7:
                try:
                    outgoing.result(timeout=60)
                except ParleyError:
                    pass  # counted as failed in check_delivery
            time.sleep(rng.uniform(0, 2 * pause))


def drop_transport(client: ParleyClient) -> None:
    """Break the client's connection the way a network does: no goodbye to the server."""
    sio = client.sio
    if sio is None or not sio.connected:
        return
    eio = sio.eio
    try:
        if eio.current_transport == "websocket":
            eio.ws.sock.shutdown(socket.SHUT_RDWR)
        else:  # long-polling: abandon the session (the server times it out)
            eio.disconnect(abort=True)
    except (OSError, AttributeError):
        pass


def sigterm(server: LiveServer, within: float = 7.0) -> float:
    """SIGTERM and wait: the process must exit 0, promptly. Answer how long it took."""
    started = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    code = server.proc.wait(timeout=within)
    assert code == 0, f"exit code {code} after SIGTERM: {server.read_log()[-2000:]}"
    server.proc = None
    return time.monotonic() - started


def run_faults(rng: random.Random, faults: dict[str, Callable[[], None]], duration: float,
               log: list[str]) -> None:
    """Every kind of fault at least once, then random ones, at random moments for ``duration``."""
    kinds = list(faults)
    rng.shuffle(kinds)
    deadline = time.monotonic() + duration
    while time.monotonic() < deadline or kinds:
        time.sleep(rng.uniform(0.2, 1.2))
        kind = kinds.pop() if kinds else rng.choice(list(faults))
        log.append(f"{time.monotonic():.2f} {kind}")
        faults[kind]()


def check_delivery(app, bots: list[Bot], rooms: list[str], seed: int, *, in_order: bool,
                   settle: float = 20.0) -> dict:
    """Every acked message is stored; every bot's view of every room equals what is stored."""
    why = f"(replay with PARLEY_FAULT_SEED={seed})"
    outcomes = [o for bot in bots for o in bot.sent]
    for outgoing in outcomes:
        outgoing.done.wait(timeout=60)
    failed = [o for o in outcomes if o.error is not None]
    assert not failed, f"{len(failed)} sends failed, e.g. {failed[0].error} {why}"
    truth = {room: stored(app, room) for room in rooms}
    stored_ids = {m["id"] for ms in truth.values() for m in ms}
    for outgoing in outcomes:
        assert outgoing.message["id"] in stored_ids, f"acked but not stored: {outgoing.message} {why}"
    # Exactly once: each sent text is stored once, and each author's in the order sent.
    for bot in bots:
        for room in rooms:
            mine = [m["text"] for m in truth[room] if m["author"] == bot.name]
            sent = [o.text for o in bot.sent if o.room == room]
            assert mine == sent, f"{bot.name} in {room}: stored {mine} but sent {sent} {why}"
    deadline = time.monotonic() + settle  # the last reconnects may still be catching up
    while True:
        views = {(b.name, r): [m["id"] for m in b.client.messages(r)] for b in bots for r in rooms}
        if all(view == [m["id"] for m in truth[r]] for (_, r), view in views.items()):
            break
        if time.monotonic() > deadline:
            for (name, room), view in views.items():
                expected = [m["id"] for m in truth[room]]
                missing = sorted(set(expected) - set(view))
                extra = sorted(set(view) - set(expected))
                assert view == expected, (f"{name}'s view of {room}: missing {missing[:20]}, "
                                          f"extra {extra[:20]}, {len(view)} vs {len(expected)} {why}")
        time.sleep(0.1)
    for bot in bots:
        for room in rooms:
            got = bot.delivered.get(room, [])
            assert len(got) == len(set(got)), f"{bot.name} was given a message twice {why}"
            if in_order:
                assert got == sorted(got), f"{bot.name} was given {room} out of order {why}"
    return {"messages": sum(len(ms) for ms in truth.values()),
            **{key: sum(b.client.stats[key] for b in bots) for key in bots[0].client.stats}}


def send_under_faults(bots: list[Bot], rooms: list[str], messages: int, rng: random.Random,
                      faults: dict[str, Callable[[], None]], duration: float,
                      faults_log: list[str], stop: threading.Event) -> float:
    """Every bot sends its numbered messages while ``faults`` strike at random moments for
    ``duration`` seconds; answers when the sending began."""
    senders = [threading.Thread(target=bot.send_numbered,
                                args=(rooms, messages, random.Random(rng.random()), stop,
                                      duration / messages))
               for bot in bots]
    for thread in senders:
        thread.start()
    started = time.monotonic()
    run_faults(rng, faults, duration, faults_log)
    for thread in senders:
        thread.join(timeout=60)
    return started

"""The fault-injection harness: bots that send numbered messages (and edit, delete, react, pin and
reply at seeded moments), faults at seeded random moments, and the final comparison of every bot's
view -- and of the room each rebuilt from its callbacks alone -- with what the database stored."""
from __future__ import annotations

import os
import random
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise

from sqlalchemy import select

from examples.parley_client import Outgoing, ParleyClient, ParleyError
from tests.support import LiveServer
from webapp import accounts, create_app
from webapp.chat import service
from webapp.extensions import db
from webapp.models import Message, Room

# The servers must test delivery, not the limits (docs/security.md has those).
UNLIMITED = {
    "RATE_LIMIT_MESSAGE": "1000000 per minute", "RATE_LIMIT_JOIN": "1000000 per minute",
    "RATE_LIMIT_FLOOD": "1000000 per minute", "RATE_LIMIT_ADDRESS_FACTOR": "1",
    "RATE_LIMIT_EDIT": "1000000 per minute", "RATE_LIMIT_REACT": "1000000 per minute",
    "RATE_LIMIT_HISTORY": "1000000 per minute",
}
EMOJI = ("👍", "🎉", "👀")
# A change may find its message deleted by its author a moment before (a reaction, a reply, a
# pin to someone else's message): the one refusal a bot's change may get.
RACES = {"not_found"}


def fault_seed() -> int:
    """PARLEY_FAULT_SEED=<n> replays a run; otherwise a fresh one, printed for that purpose."""
    seed = int(os.environ.get("PARLEY_FAULT_SEED") or random.SystemRandom().randrange(10**9))
    print(f"\nPARLEY_FAULT_SEED={seed}", flush=True)
    return seed


def database_app(url: str):
    """An app in the test process on a server's database, to make bots and read what is stored."""
    return create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": url,
                       "ASYNC_MODE": "threading", "LOG_LEVEL": "WARNING"})


def make_tokens(app, names: list[str], admins: tuple[str, ...] = ()) -> dict[str, str]:
    """Registered bots with API tokens: unlike guests, a reconnect never finds its name taken.
    ``admins`` are administrators (they pin in public rooms)."""
    with app.app_context():
        return {name: accounts.create_token(
                    accounts.create_user(name, "password-1234", admin=name in admins), "bot")[1]
                for name in names}


def stored(app, room: str) -> list[dict]:
    """Every message row of ``room`` in id order, deleted ones (tombstones) included."""
    with app.app_context():
        room_id = db.session.scalar(select(Room.id).where(Room.name == room))
        rows = db.session.scalars(select(Message).where(Message.room_id == room_id)
                                  .order_by(Message.id))
        return [{"id": m.id, "author": m.author, "text": m.text, "client_id": m.client_id,
                 "reply_to": m.reply_to, "edited": m.edited_at is not None,
                 "deleted": m.deleted_at is not None} for m in rows]


def room_state(app, room: str) -> dict[int, dict]:
    """The room's live messages as the server shows them now (``history``'s rendering)."""
    with app.app_context():
        room_id = db.session.scalar(select(Room.id).where(Room.name == room))
        rows = list(db.session.scalars(select(Message).where(
            Message.room_id == room_id, Message.deleted_at.is_(None)).order_by(Message.id)))
        return {m["id"]: m for m in service.render(rows, room)}


@dataclass
class Bot:
    """A ParleyClient that sends numbered messages, changes some, and records its callbacks."""

    name: str
    client: ParleyClient
    admin: bool = False  # pins (in a public room, only the owner and admins may)
    delivered: dict[str, list[int]] = field(default_factory=dict)  # "message" ids, as given
    sent: list[Outgoing] = field(default_factory=list)  # messages and replies
    changes: list[Outgoing] = field(default_factory=list)  # edits, deletions, reactions, pins
    # Each room rebuilt from the callbacks alone, and callbacks that made no sense.
    rebuilt: dict[str, dict[int, dict]] = field(default_factory=dict)
    odd: list[str] = field(default_factory=list)
    deleting: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.client.on("message", self._record)
        for kind in ("message_edited", "reaction", "pin", "replies"):
            self.client.on(kind, self._changed)
        self.client.on("message_deleted", self._deleted)

    def _record(self, message: dict) -> None:
        self.delivered.setdefault(message["room"], []).append(message["id"])
        self.rebuilt.setdefault(message["room"], {})[message["id"]] = message

    def _changed(self, event: dict) -> None:
        room = self.rebuilt.setdefault(event["room"], {})
        if event["id"] not in room:
            self.odd.append(f"a change to {event['id']}, never given: {event}")
        room[event["id"]] = event["message"]

    def _deleted(self, event: dict) -> None:
        if self.rebuilt.setdefault(event["room"], {}).pop(event["id"], None) is None:
            self.odd.append(f"{event['id']} deleted, never given: {event}")

    def send_numbered(self, rooms: list[str], count: int, rng: random.Random, stop: threading.Event,
                      pause: float = 0.1, changes: float = 0.0):
        """Send ``count`` messages round the rooms, ``pause`` apart on average; some go out
        without waiting for the previous ack (a burst). After each, with probability
        ``changes``, change something in that room (``change_something``)."""
        for n in range(count):
            if stop.is_set():
                return
            room = rooms[n % len(rooms)]
            self._maybe_wait(self._sent(self.client.send_nowait(room, f"{self.name} #{n}")), rng)
            if rng.random() < changes:
                self.change_something(room, rng, n)
            time.sleep(rng.uniform(0, 2 * pause))

    def change_something(self, room: str, rng: random.Random, n: int) -> None:
        """Edit or delete one of our messages, react to or reply to anyone's, or (an admin) pin
        or unpin one: chosen by ``rng`` among the messages the bot's view has now."""
        view = self.client.messages(room)
        if not view:
            return
        mine = [m for m in view if m["author"] == self.name and m["id"] not in self.deleting]
        kind = rng.choice(["react", "react", "reply"] + ["edit", "edit", "delete"] * bool(mine)
                          + ["pin", "pin"] * self.admin)
        target = rng.choice(mine if kind in ("edit", "delete") else view)
        if kind == "react":
            mark = rng.choice(EMOJI)
            mine_already = any(self.name in r["users"] for r in target["reactions"]
                               if r["emoji"] == mark)
            outgoing = self.client.react(room, target["id"], mark, on=not mine_already, wait=False)
        elif kind == "reply":
            outgoing = self._sent(self.client.reply(
                room, target["id"], f"{self.name} re {target['id']} #{n}", wait=False))
        elif kind == "edit":
            outgoing = self.client.edit(room, target["id"], f"{self.name} #{n} edit", wait=False)
        elif kind == "delete":
            self.deleting.add(target["id"])
            outgoing = self.client.delete(room, target["id"], wait=False)
        else:  # keep the pins few: MAX_PINS is 50 a room
            pinned = [m for m in view if m["pinned"]]
            if len(pinned) >= 5:
                target = rng.choice(pinned)
            outgoing = self.client.pin(room, target["id"], on=not target["pinned"], wait=False)
        if kind != "reply":
            self.changes.append(outgoing)
        self._maybe_wait(outgoing, rng)

    def _sent(self, outgoing: Outgoing) -> Outgoing:
        self.sent.append(outgoing)
        return outgoing

    @staticmethod
    def _maybe_wait(outgoing: Outgoing, rng: random.Random) -> None:
        if rng.random() < 0.7:
            try:
                outgoing.result(timeout=60)
            except ParleyError:
                pass  # counted in check_delivery


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
    """Every acked message is stored, once, in the order its author sent it; every bot's view of
    every room, and the room it rebuilt from its callbacks, equals the room the database has now
    (texts, edits, deletions, reactions, pins, reply counts); the callbacks gave each message
    once (in id order, with ``in_order``); ``thread`` and ``pins`` agree with the database."""
    why = f"(replay with PARLEY_FAULT_SEED={seed})"
    outcomes = [o for bot in bots for o in bot.sent + bot.changes]
    for outgoing in outcomes:
        outgoing.done.wait(timeout=60)
    raced = [o for o in outcomes if o.error is not None and o.error.code in RACES
             and (o.op != "message" or "reply_to" in o.payload)]
    failed = [o for o in outcomes if o.error is not None and o not in raced]
    assert not failed, (f"{len(failed)} operations failed, e.g. {failed[0].op} "
                        f"{failed[0].payload}: {failed[0].error} {why}")
    truth = {room: stored(app, room) for room in rooms}
    stored_ids = {m["id"] for ms in truth.values() for m in ms}
    for outgoing in (o for bot in bots for o in bot.sent if o.error is None):
        assert outgoing.message["id"] in stored_ids, f"acked but not stored: {outgoing.message} {why}"
    # Exactly once: each message sent is stored once (its client_id), each author's in the order
    # sent, and with the text sent unless it was edited or deleted since.
    for bot in bots:
        for room in rooms:
            mine = [m for m in truth[room] if m["author"] == bot.name]
            sent = [o for o in bot.sent if o.room == room and o.error is None]
            assert [m["client_id"] for m in mine] == [o.client_id for o in sent], (
                f"{bot.name} in {room}: stored {[m['text'] for m in mine]} "
                f"but sent {[o.text for o in sent]} {why}")
            for m, o in zip(mine, sent, strict=True):
                assert m["edited"] or m["deleted"] or m["text"] == o.text, (m, o.text, why)
    state = {room: room_state(app, room) for room in rooms}
    deadline = time.monotonic() + settle  # the last reconnects may still be catching up
    while True:
        views = {(b.name, r): (b.client.messages(r), b.rebuilt.get(r, {}))
                 for b in bots for r in rooms}
        wrong = {key: (view, rebuilt) for key, (view, rebuilt) in views.items()
                 if view != list(state[key[1]].values()) or rebuilt != state[key[1]]}
        if not wrong:
            break
        if time.monotonic() > deadline:
            (name, room), (view, rebuilt) = next(iter(wrong.items()))
            raise AssertionError(
                f"{name}'s view of {room}: {difference(view, state[room])}; rebuilt from its "
                f"callbacks: {difference(rebuilt.values(), state[room])}; {len(wrong)} wrong {why}")
        time.sleep(0.1)
    for bot in bots:
        assert not bot.odd, f"{bot.name}'s callbacks: {bot.odd[:5]} {why}"
        for room in rooms:
            got = bot.delivered.get(room, [])
            assert len(got) == len(set(got)), f"{bot.name} was given a message twice {why}"
            if in_order:
                late = [(a, b) for a, b in pairwise(got) if b < a]
                assert not late, f"{bot.name} was given {room} out of order: {late[:5]} {why}"
    reader = bots[-1].client  # the reads that ask the server, through the client
    for room in rooms:
        pinned = {i for i, m in state[room].items() if m["pinned"]}
        assert {m["id"] for m in reader.pins(room)} == pinned, why
        for root in [m for m in state[room].values() if m["reply_count"]][:5]:
            replies = reader.thread(room, root["id"])["replies"]
            assert [m["id"] for m in replies] == [
                i for i, m in state[room].items() if m["reply_to"] == root["id"]], why
            assert len(replies) == root["reply_count"], why
    rows = [m for ms in truth.values() for m in ms]
    live = [m for ms in state.values() for m in ms.values()]
    return {"messages": sum(m["reply_to"] is None for m in rows),
            "replies": sum(m["reply_to"] is not None for m in rows),
            "edited": sum(m["edited"] for m in rows), "deleted": sum(m["deleted"] for m in rows),
            "reactions": sum(r["count"] for m in live for r in m["reactions"]),
            "pinned": sum(m["pinned"] for m in live), "raced": len(raced),
            **{key: sum(b.client.stats[key] for b in bots) for key in bots[0].client.stats}}


def difference(view, expected: dict[int, dict]) -> str:
    """What a view has wrong, in short: missing and extra ids, and the first wrong message."""
    have = {m["id"]: m for m in view}
    missing, extra = sorted(set(expected) - set(have)), sorted(set(have) - set(expected))
    order = [m["id"] for m in view] != sorted(have)
    differ = [(have[i], expected[i]) for i in sorted(set(have) & set(expected))
              if have[i] != expected[i]]
    first = ""
    if differ:
        held, server = differ[0]
        first = f", e.g. {held['id']}: " + ", ".join(
            f"{k} {held.get(k)!r} (server: {server.get(k)!r})" for k in server
            if held.get(k) != server.get(k))
    return (f"missing {missing[:10]}, extra {extra[:10]}, {len(differ)} differ{first}"
            + (", out of order" if order else ""))


def send_under_faults(bots: list[Bot], rooms: list[str], messages: int, rng: random.Random,
                      faults: dict[str, Callable[[], None]], duration: float,
                      faults_log: list[str], stop: threading.Event, changes: float = 0.0) -> float:
    """Every bot sends its numbered messages (and, with probability ``changes`` after each,
    changes something) while ``faults`` strike at random moments for ``duration`` seconds;
    answers when the sending began."""
    senders = [threading.Thread(target=bot.send_numbered,
                                args=(rooms, messages, random.Random(rng.random()), stop,
                                      duration / messages, changes))
               for bot in bots]
    for thread in senders:
        thread.start()
    started = time.monotonic()
    run_faults(rng, faults, duration, faults_log)
    deadline = time.monotonic() + 60
    for thread in senders:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    if any(t.is_alive() for t in senders):  # say where everything is, for the bug report
        frames = sys._current_frames()
        raise AssertionError("senders stuck for 60 s; threads:\n" + "\n".join(
            f"{t.name}:\n" + "".join(traceback.format_stack(frames[t.ident]))
            for t in threading.enumerate() if t.ident in frames))
    return started

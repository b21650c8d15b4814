"""Members die during broadcasts: the broadcast goes on to everyone else, the sender is acked.

A member that stops answering pings (a phone that lost its network, a process frozen with its
socket open) is noticed either by the server's ping timer or, often first, by the next broadcast
that tries to send to it. That broadcast must close the dead member, tell the room it left, and
carry on to every member after it; the message's sender gets its ack, not ``internal``.
"""
import contextlib
import random
import threading
import time

import pytest

from tests.delivery.support import UNLIMITED
from tests.support import ChatClient, LiveServer, RawClient, unique

pytestmark = pytest.mark.e2e

# Whole seconds (python-engineio advertises whole seconds); short, so members die within the run.
INTERVAL, TIMEOUT = 1, 1
LIVE, DEAD, SEND_SECONDS, PAUSE = 6, 8, 6.0, 0.02


@pytest.fixture
def server(tmp_path):
    live = LiveServer(tmp_path, PING_INTERVAL=str(INTERVAL), PING_TIMEOUT=str(TIMEOUT),
                      LOG_LEVEL="INFO", **UNLIMITED)
    live.start()
    yield live
    live.stop()


def test_a_broadcast_that_finds_members_dead_reaches_all_the_others(server, seed):
    rng = random.Random(f"{seed}-dead-members")
    room = unique("room")
    live = [ChatClient(server.url, unique("live"), transports=["websocket" if i % 3 else "polling"])
            .connect() for i in range(LIVE)]
    for client in live:
        client.call("join", {"room": room})
    sender = live[0]
    # Dead members: they joined, answered pings for a while, then go silent at seeded moments
    # (they never read again and never close: their sockets stay open, unanswered).
    dead = [RawClient(server.url, unique("dead"), room) for _ in range(DEAD)]
    silent_at = sorted(rng.uniform(0, SEND_SECONDS / 3) for _ in dead)
    stop = threading.Event()

    def keep_alive(raw: RawClient, until: float) -> None:
        raw.ws.settimeout(0.2)
        while not stop.is_set() and time.monotonic() < until:
            with contextlib.suppress(Exception):  # a read timeout: look at the clock again
                raw.recv_until(lambda packet: False)

    began = time.monotonic()
    keepers = [threading.Thread(target=keep_alive, args=(raw, began + at), daemon=True)
               for raw, at in zip(dead, silent_at, strict=True)]
    for thread in keepers:
        thread.start()

    acks = []
    while time.monotonic() - began < SEND_SECONDS:
        acks.append(sender.call("message", {"room": room, "text": f"m{len(acks)}"}))
        time.sleep(PAUSE)
    stop.set()

    refused = [ack for ack in acks if not ack.get("ok")]
    assert not refused, f"{len(refused)} of {len(acks)} sends refused, e.g. {refused[0]}"
    sent_ids = [ack["message"]["id"] for ack in acks]
    for client in live:
        got = []
        deadline = time.monotonic() + 15
        while len(got) < len(sent_ids) and time.monotonic() < deadline:
            got.append(client.wait("message", timeout=deadline - time.monotonic())["id"])
        assert got == sent_ids, (f"{client.name} got {len(got)} of {len(sent_ids)} live; "
                                 f"missing {sorted(set(sent_ids) - set(got))[:10]}")
    # Every dead member was noticed, closed, and announced as gone.
    watcher = live[1]
    gone = set()
    deadline = time.monotonic() + INTERVAL + TIMEOUT + 10
    while len(gone) < DEAD and time.monotonic() < deadline:
        event = watcher.wait("presence", lambda e: e["event"] == "leave",
                             timeout=deadline - time.monotonic())
        gone.add(event["user"])
    members = watcher.call("join", {"room": room})["members"]
    assert len(gone) == DEAD and not any(name.startswith("dead-") for name in members), members
    log = server.read_log()
    assert "unhandled error" not in log and "Traceback" not in log, log[-3000:]
    for client in live:
        client.close()

"""Broadcasts on the real server (webapp/server/fanout.py): what a pass of the event loop holds
for a WebSocket is written together, in order, and nothing is lost or reordered for it."""
from __future__ import annotations

import queue

import pytest

from tests.metrics import scrape, value
from tests.support import ChatClient, LiveServer, unique

SENDERS, BURST, LISTENERS = 4, 20, 3


@pytest.fixture
def server(tmp_path):
    (tmp_path / "prom").mkdir()
    server = LiveServer(tmp_path, PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prom"),
                        METRICS_ALLOW="127.0.0.1/32")
    server.start()
    yield server
    server.stop()


def test_bursts_from_several_senders_reach_everyone_in_order_in_fewer_writes(server):
    room = unique("burst")
    senders = [ChatClient(server.url, unique("sender")).connect() for _ in range(SENDERS)]
    listeners = [ChatClient(server.url, unique("listener")).connect() for _ in range(LISTENERS)]
    clients = senders + listeners
    try:
        for client in clients:
            assert client.call("join", {"room": room})["ok"]
        before = scrape(server.url)
        acks: dict[str, queue.Queue] = {s.name: queue.Queue() for s in senders}
        # All senders at once, none waiting for its acks: the server reads several of these
        # in one pass of its loop, and every member gets their broadcasts in that pass.
        for n in range(BURST):
            for sender in senders:
                sender.sio.emit("message", {"room": room, "text": f"{sender.name} {n}"},
                                callback=acks[sender.name].put)
        total = SENDERS * BURST
        for client in clients:
            got = [client.wait("message", lambda m: m["room"] == room) for _ in range(total)]
            seqs = [m["seq"] for m in got]
            assert seqs == sorted(seqs) and len(set(seqs)) == total  # the room's order, once each
            for sender in senders:  # and each sender's own order
                assert [m["text"] for m in got if m["author"] == sender.name] == [
                    f"{sender.name} {n}" for n in range(BURST)]
        for sender in senders:
            answers = [acks[sender.name].get(timeout=10) for _ in range(BURST)]
            assert all(a["ok"] for a in answers)
            assert [a["message"]["text"] for a in answers] == [
                f"{sender.name} {n}" for n in range(BURST)]
        after = scrape(server.url)
    finally:
        for client in clients:
            client.close()

    def moved(name):
        return value(after, name) - value(before, name)
    writes, packets = moved("parley_fanout_writes_total"), moved("parley_fanout_written_packets_total")
    deliveries = total * len(clients)
    # Every delivery and ack went out through held writes or the queue; held writes carried
    # several packets each (before, one write per packet).
    assert 0 < packets <= deliveries + total
    assert packets > 1.5 * writes, (writes, packets)

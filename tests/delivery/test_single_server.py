"""One real server; bots send, edit, delete, react, reply and pin while their transports drop and
the server is killed and restarted. Each ends with the room as the database has it."""
import random
import threading
import time

import pytest

from tests.delivery.support import (
    UNLIMITED,
    Bot,
    ParleyClient,
    check_delivery,
    database_app,
    drop_transport,
    make_tokens,
    send_under_faults,
    sigterm,
)
from tests.support import LiveServer, unique

pytestmark = pytest.mark.e2e

# CHANGES: how often a bot changes something (edit, delete, react, reply, pin) after a message.
BOTS, ROOMS, MESSAGES, FAULT_SECONDS, CHANGES = 3, 2, 60, 6.0, 0.5


def test_no_message_lost_or_duplicated_through_faults(tmp_path, seed, transport):
    rng = random.Random(f"{seed}-single-{transport}")
    server = LiveServer(tmp_path, **UNLIMITED)
    server.start()
    app = database_app(server.env["DATABASE_URL"])
    names = [unique("bot") for _ in range(BOTS)]
    tokens = make_tokens(app, names, admins=(names[0],))  # the admin also pins
    rooms = [unique("room") for _ in range(ROOMS)]
    bots, faults_log, stop = [], [], threading.Event()
    try:
        for name, token in tokens.items():
            client = ParleyClient(transports=[transport], max_tries=20, ack_timeout=3,
                                  reconnect_delay=(0.05, 0.5))
            client.connect(server.url, {"token": token})
            for room in rooms:
                client.join(room)
            bots.append(Bot(name, client, admin=name == names[0]))

        def restart(kill: bool):
            def fault():
                if kill:
                    server.stop(kill=True)
                else:
                    took = sigterm(server)
                    faults_log.append(f"  exited {took:.2f}s after SIGTERM")
                server.start()
            return fault

        faults = {
            "drop": lambda: drop_transport(rng.choice(bots).client),
            "drop-all": lambda: [drop_transport(b.client) for b in bots],
            "sigkill": restart(kill=True),
            "sigterm": restart(kill=False),
        }
        started = send_under_faults(bots, rooms, MESSAGES, rng, faults, FAULT_SECONDS,
                                    faults_log, stop, changes=CHANGES)
        summary = check_delivery(app, bots, rooms, seed, in_order=True)
        print(f"{transport}: {summary} in {time.monotonic() - started:.1f}s; faults:",
              *faults_log, sep="\n  ")
        assert summary["messages"] == BOTS * MESSAGES
    finally:
        stop.set()
        for bot in bots:
            bot.client.close()
        server.stop()

"""Three processes behind nginx on PostgreSQL and Redis; bots send, edit, delete, react, reply and
pin while processes are killed (SIGKILL, SIGTERM) and restarted and transports drop. Each ends with
the room as the database has it."""
import random
import threading
import time

import pytest
import requests

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
from tests.integration.conftest import start_cluster
from tests.support import unique

pytestmark = pytest.mark.integration

# CHANGES: how often a bot changes something (edit, delete, react, reply, pin) after a message.
BOTS, ROOMS, MESSAGES, FAULT_SECONDS, CHANGES = 4, 2, 40, 5.0, 0.5


def test_no_message_lost_or_duplicated_when_processes_die(
    tmp_path, seed, transport, postgres_url, redis_url
):
    rng = random.Random(f"{seed}-cluster-{transport}")
    cluster = start_cluster(tmp_path, 3, DATABASE_URL=postgres_url, REDIS_URL=redis_url, **UNLIMITED)
    app = database_app(postgres_url)
    names = [unique("bot") for _ in range(BOTS)]
    tokens = make_tokens(app, names, admins=(names[0],))  # the admin also pins
    rooms = [unique("room") for _ in range(ROOMS)]
    bots, faults_log, stop = [], [], threading.Event()
    try:
        for i, (name, token) in enumerate(tokens.items()):
            # Spread over the processes; a bot's cookie keeps it on one while that one lives.
            # resync_every: what a dying process committed but never broadcast is found again.
            cluster.cookie_for(i % 3)
            session = requests.Session()
            session.cookies.set("parley_node", cluster.cookies[i % 3])
            client = ParleyClient(transports=[transport], http_session=session,
                                  max_tries=20, ack_timeout=3, reconnect_delay=(0.05, 0.5),
                                  resync_every=1.0)
            client.connect(cluster.url, {"token": token})
            for room in rooms:
                client.join(room)
            bots.append(Bot(name, client, admin=name == names[0]))

        def restart(kill: bool):
            def fault():
                server = rng.choice(cluster.servers)
                if kill:
                    server.stop(kill=True)
                else:
                    faults_log.append(f"  exited {sigterm(server):.2f}s after SIGTERM")
                time.sleep(rng.uniform(0, 1))
                server.start()
            return fault

        faults = {
            "drop": lambda: drop_transport(rng.choice(bots).client),
            "sigkill-one": restart(kill=True),
            "sigterm-one": restart(kill=False),
        }
        started = send_under_faults(bots, rooms, MESSAGES, rng, faults, FAULT_SECONDS,
                                    faults_log, stop, changes=CHANGES)
        # Across processes, two messages can reach a bot out of id order (docs/delivery.md); the
        # client gives them to its callbacks in id order all the same (by their seqs).
        summary = check_delivery(app, bots, rooms, seed, in_order=True)
        print(f"{transport}: {summary} in {time.monotonic() - started:.1f}s; faults:",
              *faults_log, sep="\n  ")
        assert summary["messages"] == BOTS * MESSAGES
    finally:
        stop.set()
        for bot in bots:
            bot.client.close()
        cluster.stop()

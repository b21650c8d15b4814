"""The official socket.io-client over long-polling: a burst of emits is all acknowledged.

The official clients (the browser's, Node's) pack quick emits into one POST; python-engineio
refused any POST of more than 16 packets, so 40 quick emits got 1 ack of 40 -- exactly what the
page's outbox flush after a reconnect sends. Parley accepts what the reference client sends.
"""
import json
import os
import subprocess
from pathlib import Path

import pytest

from bench.official import CLIENT_DIR, client_available
from tests.support import ChatClient, unique

pytestmark = pytest.mark.e2e

BURST = 25  # under RATE_LIMIT_MESSAGE (30 per 10 s): every one must be stored, not refused


def test_a_burst_from_the_official_client_over_polling_is_all_acked(live_server):
    ready, why = client_available()
    if not ready:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {why}")
        pytest.skip(why)
    room, name = unique("burst"), unique("node")
    watcher = ChatClient(live_server.url, unique("watcher")).connect()
    watcher.call("join", {"room": room})
    config = {"url": live_server.url, "name": name, "room": room, "count": BURST}
    script = Path(__file__).with_name("official_burst.js")
    # The client comes from the bench's lock file (bench/node-client), found through NODE_PATH.
    env = {**os.environ, "NODE_PATH": str(CLIENT_DIR / "node_modules")}
    done = subprocess.run(["node", str(script), json.dumps(config)], env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"acked": BURST, "ok": BURST, "errors": []}, result
    got = [watcher.wait("message", lambda m: m["room"] == room) for _ in range(BURST)]
    # Stored once each, in the order sent: ids are given in storage order. (The order the watcher
    # hears them in is not the server's to keep: python-engineio's client hands each message to
    # a thread of its own.)
    texts = [m["text"] for m in sorted(got, key=lambda m: m["id"])]
    assert texts == [f"burst {i}" for i in range(BURST)]
    watcher.close()

"""Password hashing never holds up the chat: a login and registration storm on the real server.

Attack tried: twenty clients registering and logging in at once, within the limits (each request
one scrypt hash, ~100-150 ms of CPU), while a chat client measures its message acknowledgements.
With the hashes on the event loop every ack waited behind them (for seconds); off the loop
(``webapp/server/offload.py``) they stay in milliseconds. Also: at most ``OFFLOAD_THREADS`` hashes run
at once, the rest queue without a thread each.
"""
import re
import statistics
import subprocess
import sys
import textwrap
import threading
import time

import pytest
import requests

from tests.support import ROOT, ChatClient, unique

pytestmark = pytest.mark.e2e

WORKERS = 20
LOGINS_EACH = 2
# An ack takes 1-2 ms on an idle server. With the hashes on the loop the slowest ack of this storm
# took 3.5-12 s; off it, 70-320 ms on a 2-core machine shared with other test runs (load 5).
# The bound sits well clear of both (docs/security.md has the figures).
ACK_BOUND = 1.0
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
PASSWORD = "a long password here"


@pytest.fixture
def server(fresh_server):
    # The storm stays within the limits: it is about CPU, not throttling (tested elsewhere).
    fresh_server.env.update(
        RATE_LIMIT_LOGIN="1000 per minute", RATE_LIMIT_REGISTER="1000 per hour",
        RATE_LIMIT_MESSAGE="1000 per 10 seconds",
    )
    fresh_server.start()
    return fresh_server


def account_storm(url: str, statuses: list, ready: threading.Barrier | None = None) -> None:
    """One person: register (a hash), then log in again and again (a hash each).

    The form's CSRF token is fetched first (it holds for the session): the storm proper, after
    ``ready``, is the hashed requests alone, not a burst of page views.
    """
    session, name = requests.Session(), unique("storm")
    token = CSRF.search(session.get(url + "/auth/register", timeout=60).text).group(1)
    if ready is not None:
        ready.wait(timeout=60)

    def post(path: str, **data) -> None:
        response = session.post(
            url + path, data={**data, "csrf_token": token}, allow_redirects=False, timeout=60
        )
        statuses.append(response.status_code)

    post("/auth/register", name=name, password=PASSWORD, confirm=PASSWORD)
    for _ in range(LOGINS_EACH):
        post("/auth/login", name=name, password=PASSWORD)


def ack_round_trip(client: ChatClient, text: str) -> float:
    start = time.perf_counter()
    ack = client.call("message", {"room": "general", "text": text}, timeout=60)
    elapsed = time.perf_counter() - start
    assert ack["ok"], ack
    return elapsed


def test_a_login_storm_does_not_delay_chat_acks(server):
    account_storm(server.url, [])  # warm up: first renders compile templates on the loop
    watcher = ChatClient(server.url, "watcher").connect()
    assert watcher.call("join", {"room": "general"})["ok"]
    idle = [ack_round_trip(watcher, f"idle {i}") for i in range(20)]

    statuses: list[int] = []
    ready = threading.Barrier(WORKERS + 1)
    storm = [
        threading.Thread(target=account_storm, args=(server.url, statuses, ready))
        for _ in range(WORKERS)
    ]
    for thread in storm:
        thread.start()
    ready.wait(timeout=60)
    started = time.perf_counter()
    during = []
    while any(thread.is_alive() for thread in storm):
        during.append(ack_round_trip(watcher, f"during {len(during)}"))
        time.sleep(0.02)
    for thread in storm:
        thread.join()
    storm_time = time.perf_counter() - started
    watcher.close()

    print(
        f"\nidle acks: median {statistics.median(idle) * 1000:.1f} ms, max {max(idle) * 1000:.1f} ms;"
        f" storm of {len(statuses)} hashed requests in {storm_time:.1f} s;"
        f" acks during it: {len(during)}, median {statistics.median(during) * 1000:.1f} ms,"
        f" max {max(during) * 1000:.1f} ms"
    )
    # every registration and login went through (302 to the chat page): the storm was real
    assert statuses == [302] * len(statuses) and len(statuses) == WORKERS * (1 + LOGINS_EACH)
    assert max(during) < ACK_BOUND
    assert len(during) >= 5  # and the chat was measured all along, not once


BOUND_SCRIPT = textwrap.dedent(
    """
    import eventlet
    eventlet.monkey_patch()
    import time
    from eventlet import patcher
    from webapp import create_app
    from webapp.server import offload

    real_sleep = patcher.original("time").sleep
    lock = patcher.original("threading").Lock()
    running, peak, ticks = 0, 0, 0

    def cpu_bound(i):  # stands in for a hash: a native thread busy for 50 ms
        global running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        real_sleep(0.05)
        with lock:
            running -= 1
        return i

    def ticker():
        global ticks
        while True:
            eventlet.sleep(0.005)
            ticks += 1

    app = create_app({"ASYNC_MODE": "eventlet", "OFFLOAD_THREADS": 2,
                      "SQLALCHEMY_DATABASE_URI": "sqlite://"})

    def call(i):
        with app.app_context():
            return offload.run_blocking(cpu_bound, i)

    eventlet.spawn_n(ticker)
    pool = eventlet.GreenPool()
    results = list(pool.imap(call, range(20)))
    print(results == list(range(20)), peak, ticks)
    """
)


def test_offloaded_calls_are_bounded_and_leave_the_loop_free():
    """20 concurrent calls under eventlet: 2 at a time in native threads, the hub keeps ticking."""
    result = subprocess.run(
        [sys.executable, "-c", BOUND_SCRIPT], cwd=ROOT, capture_output=True, text=True,
        timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    ordered, peak, ticks = result.stdout.split()
    assert ordered == "True" and peak == "2"
    # 20 calls of 50 ms, two at a time: ~0.5 s, in which a free hub ticks every 5 ms (~100);
    # on the loop (no offload) the ticker could not run at all.
    assert int(ticks) >= 20

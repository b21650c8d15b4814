"""bench/scaleout.py at tiny scale: two real Parley processes sharing Redis and PostgreSQL.

Structure only, no timing: every member on both processes gets every message once, the
cross-process deliveries are counted apart, and Redis's CPU is measured from its own process.
"""
from __future__ import annotations

import argparse
import asyncio
import shutil

import pytest

from tests.integration.conftest import postgres_url, require  # noqa: F401 - a fixture

pytestmark = pytest.mark.e2e


@pytest.mark.usefixtures("postgres_url")  # PostgreSQL answers (CI: or the test fails)
def test_two_processes_deliver_every_message_once_across_redis(tmp_path):
    require(bool(shutil.which("redis-server")), "redis-server is needed for the bench's own Redis")
    from bench import scaleout  # the bench extra: tests/bench/test_smoke.py says when it is missing

    args = argparse.Namespace(members=6, senders=2, rate=20, duration=1, repeat=1, ramp=["two"],
                              ramp_steps=2, p99_bound=10_000)
    results = asyncio.run(scaleout.run(args, tmp_path))
    runs = {r["setup"]: r for r in results["runs"]}
    assert set(runs) == {"single", "single+redis", "two", "two-apart"}
    for name, r in runs.items():
        assert "error" not in r, (name, r)
        assert r["sent"] == 20 and r["acks_ok"] == 20, (name, r)
        assert r["delivered"] == r["expected_deliveries"] == 20 * 6, (name, r)
        assert r["duplicates"] == 0
    two = runs["two"]
    assert two["cross_process"]["count"] == 20 * 3  # half the members, on the other process
    assert two["local"]["count"] == 20 * 3
    assert "redis_cpu_us_per_message" in two and "redis_cpu_us_per_message" not in runs["single"]
    assert all(r["postgres_cpu_us_per_message"] >= 0 for r in runs.values())
    # Every member on the first process; the second's CPU is measured apart (no timing here).
    apart = runs["two-apart"]
    assert "cross_process" not in apart and apart["local"]["count"] == 20 * 6
    assert len(apart["process_cpu_us_per_message"]) == 2
    assert [step["passed"] for step in results["ramp"]["two"]] == [True, True]

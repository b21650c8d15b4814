"""The bench at tiny scale against the real servers: the generator's figures add up.

No timing assertions: this machine is shared and noisy. What must hold at a trivial load is
structure -- every scenario answers, nothing is lost, and the counts agree with each other.
"""
from __future__ import annotations

import os

import pytest

try:
    import aiohttp  # noqa: F401
    import uvloop  # noqa: F401
except ImportError:
    if os.environ.get("CI") == "true":  # `make test` installs the extra; CI must run this
        raise
    pytest.skip("the bench extra is not installed (pip install -e '.[bench]')", allow_module_level=True)

from bench.official import client_available
from bench.run import run_one
from bench.servers import naive, node, parley

pytestmark = pytest.mark.e2e

SCENARIOS = ("ack", "fanout100", "connect", "polling", "polling-official", "compression", "max")
OFFICIAL = "polling-official"  # its load comes from Node's socket.io-client (bench/node-client)


@pytest.fixture(scope="module", params=["parley", "naive", "node"])
def results(request, tmp_path_factory):
    """Each scenario once at tiny scale against a fresh real server of that kind."""
    spec = {"parley": parley, "naive": naive, "node": node}[request.param]()
    ready, why = spec.available()  # node: Node.js and `npm ci` of bench/node's lock file
    if not ready:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but the {request.param} server cannot run: {why}")
        pytest.skip(why)
    names = SCENARIOS
    official, why = client_available()  # Node.js and `npm ci` of bench/node-client's lock file
    if not official:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but the official client cannot run: {why}")
        names = tuple(name for name in SCENARIOS if name != OFFICIAL)
    workdir = tmp_path_factory.mktemp(request.param)
    answers = {name: run_one(spec, name, "tiny", workdir, log=lambda *_: None)
               for name in names}
    return request.param, answers


def test_no_scenario_errors(results):
    server, answers = results
    errors = {name: r["error"] for name, r in answers.items() if "error" in r}
    assert not errors, f"{server}: {errors}"


def _assert_fanout_adds_up(r: dict) -> None:
    assert r["sent"] > 0
    assert r["acks_ok"] == r["sent"] and r["ack_errors"] == 0
    assert r["expected_deliveries"] == r["sent"] * r["members"]
    assert r["delivered"] == r["expected_deliveries"]
    assert r["lost"] == 0 and r["duplicates"] == 0 and r["foreign"] == 0
    assert r["count"] == r["delivered"]  # one latency sample per delivery
    assert 0 < r["p50_ms"] <= r["p99_ms"] <= r["max_ms"]


def test_ack_round_trips(results):
    _, answers = results
    r = answers["ack"]
    assert r["round_trips"] == r["params"]["count"] == r["count"]
    assert r["errors"] == 0
    assert 0 < r["p50_ms"] <= r["p99_ms"] <= r["max_ms"]


@pytest.mark.parametrize("scenario", ["fanout100", "polling", OFFICIAL])
def test_fanout_counts_match(results, scenario):
    _, answers = results
    if scenario not in answers:
        pytest.skip("Node.js or npm is not installed: no official client")
    r = answers[scenario]
    assert r["connect_failures"] == 0
    _assert_fanout_adds_up(r)


def test_compression_runs_both_ways(results):
    _, answers = results
    r = answers["compression"]
    _assert_fanout_adds_up(r["plain"])
    _assert_fanout_adds_up(r["deflate"])
    assert 0 <= r["deflate_negotiated"] <= r["deflate"]["members"]


def test_connect_opens_every_connection(results):
    _, answers = results
    r = answers["connect"]
    assert r["connected"] == r["attempted"] == r["alive_after_idle"]
    assert r["failures"] == 0 and r["newest_answers"]
    assert r["kib_per_connection"] is not None


def test_max_search_finds_a_trivial_rate(results):
    _, answers = results
    r = answers["max"]
    assert r["trials"] and all(trial["lost"] == 0 for trial in r["trials"])
    assert r["max_rate"] >= r["params"]["start"]


def test_the_search_bench_runs_at_a_tiny_scale(capsys):
    from bench import search

    results = search.run(2000, postgres=False)["sqlite"]
    assert results["messages"] == 2000
    assert results["two common words"]["results_p50"] > 0  # what the fill put there is found
    assert {"two rare words", "a phrase", "part of a word"} <= set(results)


def test_the_read_state_bench_runs_at_a_tiny_scale(capsys):
    from bench import reads

    results = reads.run(1500, postgres=False)["sqlite"]
    never, nearly = results["never read"], results["read but the last 100"]
    assert (never["unread"], never["mentions"]) == (1000, 3)  # the cap; every 500th mentions
    assert (nearly["unread"], nearly["join_unread"]) == (100, 100)
    assert never["rooms_p50_ms"] > 0 and nearly["join_p50_ms"] > 0

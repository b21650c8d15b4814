"""One bench run: every scenario against every server, one fresh server process per scenario."""
from __future__ import annotations

import asyncio
import contextlib
import json
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import official, scenarios
from bench.databases import fresh_postgres
from bench.servers import (
    ROOT,
    Server,
    export_revision,
    naive,
    node,
    parley,
    postgres_driver_missing,
)

RESULTS = ROOT / "bench" / "results"
POSTGRES_DATABASE = "parley_bench_run"  # made anew for each PostgreSQL scenario

# name -> (scenario function, quick parameters, full parameters). The targets of issue 7 are the
# full parameters; quick keeps the same shapes at shorter durations (and 2,000 idle connections,
# still past eventlet's 1,024-connection default).
PLAN: dict[str, tuple] = {
    "ack": (scenarios.ack, {"count": 300}, {"count": 2000}),
    "fanout100": (scenarios.fanout, {"members": 100, "senders": 10, "rate": 500, "duration": 3},
                  {"members": 100, "senders": 10, "rate": 500, "duration": 10}),
    "fanout1000": (scenarios.fanout, {"members": 1000, "senders": 10, "rate": 50, "duration": 3},
                   {"members": 1000, "senders": 10, "rate": 50, "duration": 10}),
    "connect": (scenarios.connect, {"count": 2000, "idle": 26}, {"count": 10000, "idle": 30}),
    "polling": (scenarios.fanout,
                {"members": 100, "senders": 10, "rate": 50, "duration": 3, "polling": True},
                {"members": 100, "senders": 10, "rate": 50, "duration": 10, "polling": True}),
    # The same load from the official socket.io-client (Node), a new connection per request.
    "polling-official": (official.official_client,
                         {"members": 100, "senders": 10, "rate": 50, "duration": 3},
                         {"members": 100, "senders": 10, "rate": 50, "duration": 10}),
    "compression": (scenarios.compression, {"rate": 200, "duration": 2},
                    {"rate": 200, "duration": 5}),
    "max": (scenarios.max_rate, {"step_s": 2, "steps": 6}, {"step_s": 4, "steps": 9}),
}
# Scenarios run against PostgreSQL as well (target 7): the two that write per message.
POSTGRES_PLAN = ("ack", "fanout100", "fanout1000")

# Tiny shapes for the smoke test: structure, not speed.
TINY: dict[str, dict] = {
    "ack": {"count": 20, "warmup": 2},
    "fanout100": {"members": 5, "senders": 2, "rate": 20, "duration": 1, "drain": 5},
    "fanout1000": {"members": 8, "senders": 2, "rate": 10, "duration": 1, "drain": 5},
    "connect": {"count": 30, "idle": 0.5},
    "polling": {"members": 4, "senders": 2, "rate": 10, "duration": 1, "polling": True, "drain": 5},
    "polling-official": {"members": 4, "senders": 2, "rate": 10, "duration": 1, "drain": 5},
    "compression": {"members": 4, "senders": 2, "rate": 10, "duration": 1},
    # A bound no trivial load misses, even on a busy machine: the smoke test checks structure.
    "max": {"members": 4, "senders": 2, "start": 10, "step_s": 0.5, "steps": 2,
            "p99_bound_ms": 10_000},
}


def scenario_params(name: str, mode: str) -> dict:
    _, quick, full = PLAN[name]
    return dict(TINY[name] if mode == "tiny" else quick if mode == "quick" else full)


def run_one(spec, name: str, mode: str, workdir: Path, log=print, source: Path = ROOT,
            profile: Path | None = None) -> dict:
    """Start a fresh server, run one scenario against it, stop it."""
    function = PLAN[name][0]
    params = scenario_params(name, mode)
    server = Server(spec, workdir / f"{spec.name}-{name}", source)
    started = time.monotonic()
    try:
        with server, _profiler(server, profile, f"{spec.name}-{name}"):
            result = asyncio.run(function(server, **params))
    except Exception as exc:  # noqa: BLE001 - a crashed server is a result too; keep going
        result = {"error": f"{type(exc).__name__}: {exc}"}
    result = {"params": params, **result, "elapsed_s": round(time.monotonic() - started, 1)}
    log(f"  {spec.name:9} {name:11} {_brief(result)}")
    return result


@contextlib.contextmanager
def _profiler(server: Server, into: Path | None, label: str):
    """``py-spy record`` the server for the whole scenario (collapsed stacks), if asked to."""
    beside_python = str(Path(sys.executable).parent)
    spy_bin = shutil.which("py-spy") or shutil.which("py-spy", path=beside_python)
    if into is None or not spy_bin:
        yield
        return
    into.mkdir(parents=True, exist_ok=True)
    spy = subprocess.Popen(
        [spy_bin, "record", "--pid", str(server.pid), "--rate", "250", "--nonblocking",
         "--format", "raw", "--output", str(into / f"{label}.txt")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)
        try:
            spy.wait(timeout=20)
        except subprocess.TimeoutExpired:
            spy.kill()


def _brief(r: dict) -> str:
    if "error" in r:
        return "ERROR " + r["error"][:160]
    keys = ("p50_ms", "p99_ms", "lost", "deliveries_per_s", "server_cpu_us_per_delivery",
            "kib_per_connection", "connected", "failures", "max_rate",
            "extra_server_cpu_us_per_delivery",
            "deflate_negotiated", "listen_drops_on_this_machine")
    return " ".join(f"{k}={r[k]}" for k in keys if k in r)


def run(mode: str = "quick", servers: list[str] | None = None, only: list[str] | None = None,
        postgres: bool = True, out: Path | None = None, log=print,
        rev: str | None = None, profile: Path | None = None) -> tuple[dict, Path]:
    """Run the plan; write the JSON under bench/results/ and answer (results, path)."""
    import uvloop

    uvloop.install()
    names = only or list(PLAN)
    specs = {"parley": parley(), "naive": naive(), "node": node()}
    chosen = [specs[s] for s in (servers or ["parley", "naive"])]
    results: dict = {"meta": _meta(mode, rev), "servers": {}}
    with tempfile.TemporaryDirectory(prefix="parley-bench-") as tmp:
        source = export_revision(rev, Path(tmp) / "src") if rev else ROOT
        for spec in chosen:
            ready, why = spec.available()
            if not ready:
                results["servers"][spec.name] = {"skipped": why}
                log(f"{spec.name}: skipped ({why})")
                continue
            log(f"{spec.name}:")
            results["servers"][spec.name] = {
                n: run_one(spec, n, mode, Path(tmp), log, source, profile) for n in names
            }
        if postgres and (servers is None or "parley" in servers):
            missing = postgres_driver_missing()
            pg_names = [n for n in POSTGRES_PLAN if n in names]
            if missing:
                results["servers"]["parley-pg"] = {"skipped": missing}
                log(f"parley-pg: skipped ({missing})")
            elif pg_names:
                log("parley-pg:")
                results["servers"]["parley-pg"] = {  # each scenario on an empty database
                    n: run_one(parley(fresh_postgres(POSTGRES_DATABASE)), n, mode, Path(tmp), log,
                               source, profile)
                    for n in pg_names
                }
    RESULTS.mkdir(exist_ok=True)
    path = out or RESULTS / f"{datetime.now().strftime('%Y%m%d-%H%M%S')}-{mode}.json"
    path.write_text(json.dumps(results, indent=2))
    return results, path


def _meta(mode: str, rev: str | None) -> dict:
    git = ["git", "-C", str(ROOT)]
    commit = subprocess.run(git + ["rev-parse", "--short", rev or "HEAD"], capture_output=True,
                            text=True, check=False).stdout.strip()
    dirty = rev is None and bool(subprocess.run(
        git + ["status", "--porcelain", "--", "webapp", "wsgi.py", "migrations"],
        capture_output=True, text=True, check=False).stdout.strip())
    return {"mode": mode, "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "git": commit + ("+dirty" if dirty else ""), "served": rev or "working tree",
            "python": platform.python_version(), "machine": platform.machine(),
            "cpus": __import__("os").cpu_count(), "server_core": 0, "generator_core": 1}

"""``python -m bench scaleout``: the message path across processes, through Redis and PostgreSQL.

One room of ``--members`` members, ``--senders`` of them sending; four set-ups measured in one
invocation, each on the same fresh PostgreSQL database and a Redis server of the bench's own (so
its CPU is Redis's work for this load alone):

- ``single``: one Parley process, no Redis -- the reference;
- ``single+redis``: one process with ``REDIS_URL``: every send goes through Redis's pub/sub and
  comes back to the same process;
- ``two``: two processes sharing Redis and PostgreSQL, half the members on each, every sender on
  the first: deliveries to the second's members are cross-process;
- ``two-apart``: two processes, every member on the first: the second has no one in the room,
  and its CPU per message is what every process pays for every message of the cluster, since
  all of them listen on Redis's one channel (docs/scaling.md: the first wall).

For each: delivery latency (cross-process and local separately), server CPU per delivery (both
processes) and per message (each process), Redis's and PostgreSQL's CPU per message, lost and
duplicate deliveries. Then ``--ramp`` raises the rate
on ``two`` (and ``single``) until p99 passes ``--p99-bound`` ms, something is lost, or acks fail.
Clients reach each process directly: nginx adds a hop to connecting, not to the message path.

``--foreign 50,400,800`` measures instead what a process pays per message of a room it has no
one in (docs/scaling.md): the slope of the idle process's CPU against the messages sent.
"""
from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Self

from bench import scenarios
from bench.databases import fresh_postgres
from bench.servers import ROOT, Server, cpu_seconds, free_port, parley, pin_generator

DATABASE = "parley_bench_scaleout"
ROOM = "bench-scaleout"
_MEASURES = itertools.count()


class Tallies:
    """One FanoutTally per process's members, seen together as one by scenarios._drive."""

    def __init__(self, count: int) -> None:
        self.parts = [scenarios.FanoutTally() for _ in range(count)]

    @property
    def delivered(self) -> int:
        return sum(part.delivered for part in self.parts)

    @property
    def foreign(self) -> int:
        return sum(part.foreign for part in self.parts)

    @property
    def last_ns(self) -> int:
        return max(part.last_ns for part in self.parts)

    @property
    def samples(self) -> list[int]:
        return [sample for part in self.parts for sample in part.samples]

    @samples.setter
    def samples(self, value: list[int]) -> None:
        for part in self.parts:
            part.samples = list(value)


def postgres_cpu(database: str) -> float:
    """CPU seconds of PostgreSQL's work for this bench: the backends of ``database`` and the
    shared writers (WAL writer, checkpointer, background writer). Others' backends are left out;
    a backend that exits between two readings takes its seconds with it (pools keep theirs)."""
    total = 0.0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                title = f.read().decode(errors="replace")
            if title.startswith("postgres: ") and (
                    f" {database} " in title or any(w in title for w in POSTGRES_WRITERS)):
                total += cpu_seconds(int(pid))
        except OSError:  # gone meanwhile
            continue
    return total


POSTGRES_WRITERS = ("walwriter", "checkpointer", "background writer")


class Group:
    """The processes of one set-up, measured as one server (their CPU summed)."""

    def __init__(self, servers: list[Server]) -> None:
        self.servers = servers

    def cpu(self) -> float:
        return sum(server.cpu() for server in self.servers)


class OwnRedis:
    """redis-server on a free port, no persistence: the bench's alone, so its CPU is this load's."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def __enter__(self) -> Self:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            done = subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True,
                                  text=True, check=False)
            if done.stdout.strip() == "PONG":
                return self
            time.sleep(0.1)
        raise RuntimeError("redis-server did not start")

    def cpu(self) -> float:
        return cpu_seconds(self.proc.pid)

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


async def measure(servers: list[Server], redis: OwnRedis | None, *, members: int, senders: int,
                  rate: float, duration: float, split: bool = True) -> dict:
    """Members split over ``servers`` (or all on the first); senders on the first; one window."""
    tallies = Tallies(len(servers))
    share = members // len(servers) if split else 0
    clients: list = []
    try:
        for index, server in enumerate(servers):
            count = members - share * (len(servers) - 1) if index == 0 else share
            if not count:
                clients.append([])
                continue
            # Names of their own each time: the last measure's may still be held meanwhile.
            opened, failures = await scenarios.open_clients(
                server, count, f"p{index}m{next(_MEASURES)}-", room=ROOM,
                on_message=tallies.parts[index])
            clients.append(opened)
            if failures:
                return {"error": f"{len(failures)} members of process {index} did not connect: "
                                 f"{scenarios.failure_kinds(failures)}"}
        await asyncio.sleep(0.5)  # the joins' presence events settle
        redis_cpu0 = redis.cpu() if redis else 0.0
        cpu0 = [server.cpu() for server in servers]
        postgres_cpu0 = postgres_cpu(DATABASE)
        result = await scenarios._drive(
            clients[0][:senders], ROOM, rate, int(rate * duration), members, tallies,
            Group(servers), drain=10.0, time_limit=duration * 3 + 5)
        sent = max(1, result["sent"])
        result["postgres_cpu_us_per_message"] = round(
            (postgres_cpu(DATABASE) - postgres_cpu0) * 1e6 / sent, 2)
        if redis is not None:
            result["redis_cpu_us_per_message"] = round((redis.cpu() - redis_cpu0) * 1e6 / sent, 2)
        # Each process's CPU per message sent; for a process with no member in the room, what
        # every process pays for every message of the cluster (the one channel's traffic).
        result["process_cpu_us_per_message"] = [
            round((server.cpu() - before) * 1e6 / sent, 2) for server, before in zip(servers, cpu0)]
        result["local"] = scenarios.summarize(tallies.parts[0].samples)
        if len(servers) > 1 and split:
            result["cross_process"] = scenarios.summarize(tallies.parts[1].samples)
        return result
    finally:
        for opened in clients:
            scenarios.close_all(opened)


def start(count: int, workdir: Path, database_url: str, redis_url: str | None) -> list[Server]:
    """``count`` Parley processes on PostgreSQL (and Redis), each free to run on any core."""
    servers = []
    for index in range(count):
        spec = parley(database_url)
        spec.env.update({"REDIS_URL": redis_url} if redis_url else {})
        servers.append(Server(spec, workdir / f"p{index}", core=None).start())
    return servers


def setups(redis: OwnRedis) -> dict[str, tuple[int, str | None, bool]]:
    """name: (processes, REDIS_URL, members split over them)."""
    return {"single": (1, None, True), "single+redis": (1, redis.url, True),
            "two": (2, redis.url, True), "two-apart": (2, redis.url, False)}


def passes(result: dict, bound_ms: float) -> bool:
    return ("error" not in result and result["lost"] == 0 and result["ack_errors"] == 0
            and result["p99_ms"] is not None and result["p99_ms"] <= bound_ms)


async def run(args: argparse.Namespace, workdir: Path) -> dict:
    results: dict = {"meta": {"members": args.members, "senders": args.senders,
                              "rate": args.rate, "duration": args.duration,
                              "at": datetime.now(UTC).isoformat(timespec="seconds")},
                     "runs": [], "ramp": {}}
    with OwnRedis() as redis:
        for repeat in range(args.repeat):
            for name, (count, redis_url, split) in setups(redis).items():
                servers = start(count, workdir / f"{name}-{repeat}", fresh_postgres(DATABASE), redis_url)
                try:
                    figures = await measure(servers, redis if redis_url else None,
                                            members=args.members, senders=args.senders,
                                            rate=args.rate, duration=args.duration, split=split)
                finally:
                    for server in servers:
                        server.stop()
                results["runs"].append({"setup": name, "repeat": repeat, **figures})
                print(name, brief(figures), flush=True)
        for name in args.ramp:
            count, redis_url, _ = setups(redis)[name]
            results["ramp"][name] = await ramp(args, workdir / f"ramp-{name}", count,
                                               redis if redis_url else None)
    return results


async def ramp(args, workdir: Path, count: int, redis: OwnRedis | None) -> list[dict]:
    """Raise the rate (x1.5 a step) until a step fails: the highest passing step is the answer."""
    steps, rate = [], args.rate
    servers = start(count, workdir, fresh_postgres(DATABASE), redis.url if redis else None)
    try:
        for _ in range(args.ramp_steps):
            figures = await measure(servers, redis, members=args.members, senders=args.senders,
                                    rate=rate, duration=args.duration)
            steps.append({"rate": rate, "passed": passes(figures, args.p99_bound), **figures})
            print(f"ramp x{count} {rate:.0f}/s", brief(figures), flush=True)
            if not steps[-1]["passed"]:
                break
            rate = round(rate * 1.5)
    finally:
        for server in servers:
            server.stop()
    return steps


async def foreign(workdir: Path, rates: list[float], duration: float) -> dict:
    """What a process pays per message of a room it has no one in: two processes, every member
    (10) on the first, the second's CPU seconds at each rate; the slope over messages is the
    cost per message, the intercept its time-based work (pings, heartbeats) over the window."""
    with OwnRedis() as redis:
        servers = start(2, workdir, fresh_postgres(DATABASE), redis.url)
        points = []
        try:
            for rate in rates:
                r = await measure(servers, redis, members=10, senders=5, rate=rate,
                                  duration=duration, split=False)
                if "error" in r:
                    points.append({"rate": rate, "error": r["error"]})
                    continue
                seconds = r["process_cpu_us_per_message"][1] * r["sent"] / 1e6
                points.append({"rate": rate, "sent": r["sent"], "idle_process_cpu_s": seconds})
                print(f"foreign {rate:.0f}/s: {r['sent']} messages, the other process "
                      f"{seconds:.3f} s of CPU", flush=True)
        finally:
            for server in servers:
                server.stop()
    good = [p for p in points if "error" not in p]
    slope = None
    if len({p["sent"] for p in good}) > 1:
        mean_x = sum(p["sent"] for p in good) / len(good)
        mean_y = sum(p["idle_process_cpu_s"] for p in good) / len(good)
        slope = (sum((p["sent"] - mean_x) * (p["idle_process_cpu_s"] - mean_y) for p in good)
                 / sum((p["sent"] - mean_x) ** 2 for p in good))
    return {"points": points, "us_per_foreign_message": None if slope is None else round(slope * 1e6, 1)}


def brief(r: dict) -> str:
    if "error" in r:
        return r["error"]
    cross = r.get("cross_process", {}).get("p99_ms")
    return (f"p50 {r['p50_ms']} p99 {r['p99_ms']} ms (cross-process p99 {cross}), "
            f"{r['server_cpu_us_per_delivery']} us CPU/delivery, "
            f"per process {r.get('process_cpu_us_per_message')} us/msg, "
            f"redis {r.get('redis_cpu_us_per_message', '-')} us/msg, "
            f"postgres {r.get('postgres_cpu_us_per_message')} us/msg, lost {r['lost']}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench scaleout")
    parser.add_argument("--members", type=int, default=100)
    parser.add_argument("--senders", type=int, default=10)
    parser.add_argument("--rate", type=float, default=500, help="messages per second into the room")
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each set-up (medians)")
    parser.add_argument("--ramp", default="two,single",
                        help="set-ups whose highest passing rate is searched ('' for none)")
    parser.add_argument("--ramp-steps", type=int, default=8)
    parser.add_argument("--p99-bound", type=float, default=50.0)
    parser.add_argument("--foreign", default="",
                        help="instead: rates (e.g. 50,400,800) for the cost per message of a "
                             "room a process has no one in (the slope of its CPU)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    args.ramp = [name for name in args.ramp.split(",") if name]
    pin_generator()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    workdir = Path("/tmp") / f"parley-scaleout-{stamp}"
    if args.foreign:
        rates = [float(rate) for rate in args.foreign.split(",")]
        results = asyncio.run(foreign(workdir, rates, args.duration))
        print(f"per message of a room with no one here: {results['us_per_foreign_message']} us")
    else:
        results = asyncio.run(run(args, workdir))
    out = args.out or ROOT / "bench" / "results" / f"scaleout-{stamp}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"results: {out}")
    return 0

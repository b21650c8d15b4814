"""Scenario ``polling-official``: the official socket.io-client (Node) as the load generator.

bench/wire.py's lean clients keep one keep-alive connection per client and answer each poll at
once; the official client (socket.io-client 4.8, engine.io-client 6.6, Node's build) behaves as
people's clients do: over long-polling each request -- every GET and every POST -- is a new
HTTP/1.1 request on a new TCP connection (``xmlhttprequest-ssl`` without an agent sends
``Connection: close``), one POST in flight at a time, packets queued meanwhile sent together in
the next. ``bench/node-client/load.js`` runs the clients, stamps and times the messages (one
process, one clock) and reports over stdio; this module starts it, measures the server around
the send-and-drain window (``Meter``) and shapes the figures like ``fanout``'s.
"""
from __future__ import annotations

import asyncio
import json
import shutil
import subprocess

from bench.scenarios import Meter, failure_kinds, summarize
from bench.servers import ROOT, Server

CLIENT_DIR = ROOT / "bench" / "node-client"


def client_available() -> tuple[bool, str]:
    """Node and socket.io-client, installed from bench/node-client's lock file on first use."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        return False, "node and npm are not installed"
    if not (CLIENT_DIR / "node_modules" / "socket.io-client").is_dir():
        done = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=CLIENT_DIR,
                              capture_output=True, text=True, timeout=300, check=False)
        if done.returncode != 0:
            return False, f"npm ci failed: {done.stderr.strip()[-200:]}"
    return True, ""


async def official_client(
    server: Server, *, members: int = 100, senders: int = 10, rate: float = 50,
    duration: float = 10.0, drain: float = 10.0, transports: tuple[str, ...] = ("polling",),
) -> dict:
    """``members`` official clients in one room, ``senders`` of them sending ``rate`` msg/s."""
    ready, why = client_available()
    if not ready:
        return {"error": f"the official client cannot run: {why}"}
    count = int(rate * duration)
    time_limit = duration * 3 + 5
    config = {"url": f"http://{server.host}:{server.port}", "members": members,
              "senders": senders, "rate": rate, "count": count, "drain": drain,
              "transports": list(transports), "time_limit": time_limit}
    proc = await asyncio.create_subprocess_exec(
        shutil.which("node") or "node", str(CLIENT_DIR / "load.js"), json.dumps(config),
        cwd=CLIENT_DIR, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, limit=1 << 26,  # the result line carries every sample
    )
    try:
        setup = await _line(proc, "ready", timeout=120)
        result = {"client": "socket.io-client " + _client_version(),
                  "transports": list(transports), "setup_s": setup["setup_s"],
                  "connect_failures": len(setup["failures"]),
                  "failure_kinds": failure_kinds(setup["failures"])}
        if setup["connected"] < members:
            proc.stdin.write(b"stop\n")
            return {**result, "error": f"only {setup['connected']} of {members} members "
                                       f"connected: {setup['failures'][:3]}"}
        drops = listen_drops()
        with Meter(server) as meter:
            proc.stdin.write(b"go\n")
            await proc.stdin.drain()
            run = await _line(proc, "result", timeout=time_limit + drain + 30)
        result.update(_figures(run, members, senders, rate, meter))
        # Connections the kernel turned away because an accept queue was full (a listen
        # backlog too small): each waits for its SYN's resend, 1 s later. Counted for the whole
        # machine (this network namespace), so other processes' overflows would show here too.
        result["listen_drops_on_this_machine"] = listen_drops() - drops
        return result
    finally:
        await _reap(proc)


def listen_drops() -> int:
    """The kernel's count of connections dropped at a full accept queue (TcpExt ListenDrops)."""
    try:
        with open("/proc/net/netstat") as f:
            lines = f.read().splitlines()
    except OSError:
        return 0
    for names, values in zip(lines[::2], lines[1::2]):
        if names.startswith("TcpExt:"):
            fields = dict(zip(names.split()[1:], values.split()[1:]))
            return int(fields.get("ListenDrops", 0))
    return 0


def _figures(run: dict, members: int, senders: int, rate: float, meter: Meter) -> dict:
    delivered, expected = run["delivered"], run["expected_deliveries"]
    return {
        "members": members, "senders": senders, "target_rate": rate, "sent": run["sent"],
        "acks_ok": run["acks_ok"], "ack_errors": run["ack_errors"],
        "expected_deliveries": expected, "delivered": delivered,
        "lost": max(0, expected - delivered), "duplicates": max(0, delivered - expected),
        "foreign": run["foreign"],
        "deliveries_per_s": round(delivered / max(1e-9, run["active_seconds"]), 1),
        **summarize(run["samples_ns"]),
        "send_lag_p99_ms": summarize(run["send_lags_ns"])["p99_ms"],
        "server_cpu_s": round(meter.server_cpu, 3),
        "server_cpu_us_per_delivery": round(meter.server_cpu * 1e6 / max(1, delivered), 2),
        "server_cpu_share": round(meter.server_cpu / meter.wall, 3),
        "server_core_softirq_us_per_delivery": round(meter.softirq * 1e6 / max(1, delivered), 2),
        "foreign_cpu_share_on_server_core": meter.foreign_share,
        "generator_cpu_us_per_delivery": round(run["generator_cpu_s"] * 1e6 / max(1, delivered),
                                               2),
        # Each a new connection: how many the clients made, and the server's CPU per request
        # (batching makes CPU per delivery fall as latency grows; per request it does not).
        "polls": run["polls"], "posts": run["posts"],
        "deliveries_per_poll": round(delivered / max(1, run["polls"]), 2),
        "server_cpu_us_per_request": round(
            meter.server_cpu * 1e6 / max(1, run["polls"] + run["posts"]), 1),
    }


async def _line(proc: asyncio.subprocess.Process, key: str, timeout: float) -> dict:
    """The next JSON line from the client that carries ``key``; its error if it failed."""
    while True:
        raw = await asyncio.wait_for(proc.stdout.readline(), timeout)
        if not raw:
            stderr = (await proc.stderr.read()).decode(errors="replace").strip()
            raise RuntimeError(f"the official client ended early: {stderr[-300:]}")
        message = json.loads(raw)
        if "error" in message:
            raise RuntimeError(f"the official client failed: {message['error'][:300]}")
        if key in message:
            return message[key]


async def _reap(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        try:
            proc.stdin.close()
            await asyncio.wait_for(proc.wait(), 10)
        except (TimeoutError, OSError):
            proc.kill()
            await proc.wait()


def _client_version() -> str:
    try:
        lock = json.loads((CLIENT_DIR / "package-lock.json").read_text())
        return lock["packages"]["node_modules/socket.io-client"]["version"]
    except (OSError, KeyError, ValueError):
        return "?"

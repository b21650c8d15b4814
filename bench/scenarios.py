"""The load scenarios: ack, fanout, connect, polling, compression and max.

Each scenario is an ``async def`` that takes a running ``Server`` and its parameters and answers
a plain dict of figures (JSON-ready). Every loop is bounded in count and in time.
"""
from __future__ import annotations

import asyncio
import os
import time
import zlib
from collections.abc import Callable
from typing import Self

import aiohttp

from bench.servers import SERVER_CORE, Server, core_busy_seconds, core_softirq_seconds
from bench.wire import ConnectRefused, PollingClient, WsClient

NS = 1_000_000_000


def summarize(samples_ns: list[int]) -> dict:
    """p50/p90/p99/max in milliseconds (nearest-rank), plus the sample count."""
    if not samples_ns:
        return {"count": 0, "p50_ms": None, "p90_ms": None, "p99_ms": None, "max_ms": None}
    data = sorted(samples_ns)
    n = len(data)

    def rank(q: float) -> float:
        return round(data[min(n - 1, max(0, int(q * n + 0.5) - 1))] / 1e6, 3)

    return {"count": n, "p50_ms": rank(0.50), "p90_ms": rank(0.90), "p99_ms": rank(0.99),
            "max_ms": round(data[-1] / 1e6, 3)}


class Meter:
    """Server CPU (from /proc) and generator CPU (os.times) over one measured window."""

    def __init__(self, server: Server) -> None:
        self.server = server

    def __enter__(self) -> Self:
        self.cpu0, self.gen0, self.t0 = self.server.cpu(), _own_cpu(), time.perf_counter()
        self.core0 = core_busy_seconds(SERVER_CORE)
        self.softirq0 = core_softirq_seconds(SERVER_CORE)
        return self

    def __exit__(self, *exc) -> None:
        self.server_cpu = self.server.cpu() - self.cpu0
        self.generator_cpu = _own_cpu() - self.gen0
        self.wall = time.perf_counter() - self.t0
        # This machine is shared: whatever else ran on the server's core took time from it.
        core = core_busy_seconds(SERVER_CORE) - self.core0
        self.softirq = core_softirq_seconds(SERVER_CORE) - self.softirq0
        self.foreign_share = round(max(0.0, core - self.server_cpu) / max(self.wall, 1e-9), 3)


def _own_cpu() -> float:
    t = os.times()
    return t.user + t.system


# -- connecting --------------------------------------------------------------------------------
async def open_clients(
    server: Server, count: int, prefix: str, *, room: str | None = None,
    on_message: Callable[[bytes], None] | None = None, deflate: bool = False,
    polling: aiohttp.ClientSession | None = None, concurrency: int = 50,
    timeout: float = 10.0, give_up_after: int | None = None, deadline: float = 120.0,
) -> tuple[list, list[str]]:
    """Open ``count`` guests (joined to ``room`` if given); answer (clients, failure reasons).

    At most ``concurrency`` handshakes are in flight. Once ``give_up_after`` have failed (a server
    that stops accepting), or ``deadline`` seconds have passed, the rest count as not attempted.
    """
    clients: list = []
    failures: list[str] = []
    gate = asyncio.Semaphore(concurrency)
    stop_at = time.monotonic() + deadline

    async def one(i: int) -> None:
        async with gate:
            gave_up = give_up_after is not None and len(failures) >= give_up_after
            if gave_up or time.monotonic() > stop_at:
                failures.append("not attempted")
                return
            if polling is not None:
                client = PollingClient(polling, on_message)
            else:
                client = WsClient(on_message, deflate=deflate)
            try:
                # Protocol 2, as the page speaks it: presence as deltas (Node ignores the field).
                auth = {"name": f"{prefix}{i}", "protocol": 2}
                await client.open(server.host, server.port, auth, timeout)
                if room is not None:
                    ack = await client.call("join", {"room": room}, timeout)
                    if not (isinstance(ack, dict) and ack.get("ok")):
                        raise ConnectRefused(f"join refused: {ack}")
                clients.append(client)
            except (TimeoutError, OSError, ConnectRefused, aiohttp.ClientError) as exc:
                client.close()
                failures.append(type(exc).__name__ + (f": {exc}" if str(exc) else ""))

    await asyncio.gather(*(one(i) for i in range(count)))
    return clients, failures


def close_all(clients: list) -> None:
    for client in clients:
        client.close()


def failure_kinds(failures: list[str]) -> dict:
    kinds: dict[str, int] = {}
    for reason in failures:
        key = reason.split(":", 1)[0]
        kinds[key] = kinds.get(key, 0) + 1
    return kinds


# -- ack ---------------------------------------------------------------------------------------
async def ack(
    server: Server, *, count: int = 1000, warmup: int = 50, timeout: float = 60.0
) -> dict:
    """Sequential ``message`` round trips from one member alone in a room: ack latency."""
    clients, failures = await open_clients(server, 1, "ack", room="bench-ack")
    if not clients:
        return {"error": f"could not connect: {failures}"}
    client = clients[0]
    samples: list[int] = []
    errors = 0
    stop_at = time.monotonic() + timeout
    try:
        with Meter(server) as meter:
            for i in range(warmup + count):
                if time.monotonic() > stop_at:
                    break
                t0 = time.perf_counter_ns()
                reply = await client.call("message", {"room": "bench-ack", "text": f"ping {i}"})
                elapsed = time.perf_counter_ns() - t0
                if not (isinstance(reply, dict) and reply.get("ok")):
                    errors += 1
                elif i >= warmup:
                    samples.append(elapsed)
    finally:
        close_all(clients)
    done = len(samples)
    cpu_us = meter.server_cpu * 1e6 / max(1, done + warmup)
    return {"round_trips": done, "errors": errors, **summarize(samples),
            "server_cpu_us_per_round_trip": round(cpu_us, 1),
            "foreign_cpu_share_on_server_core": meter.foreign_share}


# -- fanout ------------------------------------------------------------------------------------
class FanoutTally:
    """Counts every ``message`` event a member receives and its latency from the send.

    The sender stamps ``perf_counter_ns()`` into the text; the generator is one process, so the
    clock is shared. Parsing is a byte search, not a JSON decode: it runs once per delivery.
    """

    MARK = b'"text":"'

    def __init__(self) -> None:
        self.delivered = 0
        self.foreign = 0
        self.samples: list[int] = []
        self.last_ns = 0

    def __call__(self, packet: bytes) -> None:
        now = time.perf_counter_ns()
        i = packet.find(self.MARK)
        j = packet.find(b'"', i + 8)
        stamp = packet[i + 8:j]
        if i < 0 or not stamp.startswith(b"t"):
            self.foreign += 1
            return
        self.delivered += 1
        self.samples.append(now - int(stamp[1:].split(b" ", 1)[0]))
        self.last_ns = now


async def _drive(
    senders: list, room: str, rate: float, count: int, members: int, tally: FanoutTally,
    server: Server, drain: float, time_limit: float,
) -> dict:
    """Send ``count`` messages at ``rate``/s round-robin over ``senders``; wait for delivery."""
    acks = {"ok": 0, "error": 0}
    lags: list[int] = []

    def acked(future: asyncio.Future) -> None:
        ok = (not future.cancelled() and future.exception() is None
              and (future.result() or {}).get("ok"))
        acks["ok" if ok else "error"] += 1

    base_delivered, base_foreign = tally.delivered, tally.foreign
    tally.samples = []
    sent = 0
    with Meter(server) as meter:
        t0 = time.perf_counter_ns()
        stop_at = time.monotonic() + time_limit
        while sent < count and time.monotonic() < stop_at:
            now = time.perf_counter_ns()
            due = min(count, int((now - t0) * rate / NS) + 1)
            while sent < due:
                scheduled = t0 + int(sent * NS / rate)
                stamp = time.perf_counter_ns()
                lags.append(stamp - scheduled)
                sender = senders[sent % len(senders)]
                try:
                    future = sender.emit("message", {"room": room, "text": f"t{stamp} {sent}",
                                                     "client_id": f"c{stamp}-{sent}"})
                    future.add_done_callback(acked)
                except ConnectionError:
                    acks["error"] += 1
                sent += 1
            next_due = t0 + int(sent * NS / rate)
            await asyncio.sleep(max(0.0, (next_due - time.perf_counter_ns()) / NS))
        send_seconds = (time.perf_counter_ns() - t0) / NS
        expected = sent * members
        drain_until = time.monotonic() + drain
        while time.monotonic() < drain_until and (
            tally.delivered - base_delivered < expected or acks["ok"] + acks["error"] < sent
        ):
            await asyncio.sleep(0.02)
    delivered = tally.delivered - base_delivered
    active = max(1e-9, (tally.last_ns - t0) / NS) if delivered else send_seconds
    return {
        "members": members, "senders": len(senders), "target_rate": rate, "sent": sent,
        "acks_ok": acks["ok"], "ack_errors": acks["error"],
        "expected_deliveries": expected, "delivered": delivered,
        "lost": max(0, expected - delivered), "duplicates": max(0, delivered - expected),
        "foreign": tally.foreign - base_foreign,
        "deliveries_per_s": round(delivered / active, 1),
        **summarize(tally.samples),
        "send_lag_p99_ms": summarize(lags)["p99_ms"],
        "server_cpu_s": round(meter.server_cpu, 3),
        "server_cpu_us_per_delivery": round(meter.server_cpu * 1e6 / max(1, delivered), 2),
        "server_cpu_share": round(meter.server_cpu / meter.wall, 3),
        "server_core_softirq_us_per_delivery": round(meter.softirq * 1e6 / max(1, delivered), 2),
        "foreign_cpu_share_on_server_core": meter.foreign_share,
        "generator_cpu_us_per_delivery": round(meter.generator_cpu * 1e6 / max(1, delivered), 2),
    }


async def fanout(
    server: Server, *, members: int = 100, senders: int = 10, rate: float = 500,
    duration: float = 10.0, deflate: bool = False, polling: bool = False, drain: float = 10.0,
) -> dict:
    """``members`` in one room, ``senders`` of them sending ``rate`` messages/s in total."""
    room = "bench-fanout"
    tally = FanoutTally()
    session = _polling_session() if polling else None
    try:
        with Meter(server) as setup:
            clients, failures = await open_clients(
                server, members, "m", room=room, on_message=tally, deflate=deflate,
                polling=session, give_up_after=max(10, members // 20),
            )
        result = {"setup_s": round(setup.wall, 2), "setup_server_cpu_s": round(setup.server_cpu, 2),
                  "connect_failures": len(failures), "failure_kinds": failure_kinds(failures)}
        if deflate:
            result["deflate_negotiated"] = sum(1 for c in clients if getattr(c, "deflate", False))
        if len(clients) < members:
            return {**result, "error": f"only {len(clients)} of {members} members connected"}
        await asyncio.sleep(0.5)  # let the join presence events settle
        count = int(rate * duration)
        result.update(await _drive(clients[:senders], room, rate, count, members, tally, server,
                                   drain, time_limit=duration * 3 + 5))
        return result
    finally:
        close_all(clients if "clients" in locals() else [])
        if session is not None:
            await asyncio.sleep(0.2)
            await session.close()


def _polling_session() -> aiohttp.ClientSession:
    # No connection cap: each client holds a long-poll GET and a POST at once.
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0, force_close=False),
                                 cookie_jar=aiohttp.DummyCookieJar())


# -- compression -------------------------------------------------------------------------------
async def compression(server: Server, *, members: int = 100, senders: int = 10, rate: float = 200,
                      duration: float = 5.0) -> dict:
    """The same broadcast with and without permessage-deflate offered: what does it cost?"""
    plain = await fanout(server, members=members, senders=senders, rate=rate, duration=duration)
    await asyncio.sleep(1.0)
    packed = await fanout(server, members=members, senders=senders, rate=rate, duration=duration,
                          deflate=True)
    frame = (b'42["message",{"id":123456,"room":"bench-fanout","author":"m7",'
             b'"text":"t123456789012 42","created_at":"2026-01-01T00:00:00.000Z",'
             b'"client_id":"c123-42"}]')
    t0 = time.perf_counter()
    for _ in range(2000):
        z = zlib.compressobj(6, zlib.DEFLATED, -15)
        z.compress(frame) + z.flush(zlib.Z_SYNC_FLUSH)
    one_compression_us = (time.perf_counter() - t0) / 2000 * 1e6
    extra = None
    if "server_cpu_us_per_delivery" in plain and "server_cpu_us_per_delivery" in packed:
        extra = round(packed["server_cpu_us_per_delivery"] - plain["server_cpu_us_per_delivery"], 2)
    negotiated = packed.get("deflate_negotiated", 0)
    return {
        "plain": plain, "deflate": packed, "deflate_negotiated": negotiated,
        "extra_server_cpu_us_per_delivery": extra,
        "one_compression_us": round(one_compression_us, 2),
        # One compression per recipient shows up as roughly its cost added to every delivery.
        "per_recipient_compression": bool(negotiated and extra is not None
                                          and extra > 0.5 * one_compression_us),
        "lost": plain.get("lost", 0) + packed.get("lost", 0),
    }


# -- connect -----------------------------------------------------------------------------------
async def connect(server: Server, *, count: int = 10000, idle: float = 3.0,
                  concurrency: int = 100, timeout: float = 5.0, deadline: float = 120.0) -> dict:
    """Open ``count`` idle guests; memory per connection from the server's RSS."""
    probe, _ = await open_clients(server, 20, "warm")  # load lazily imported code first
    close_all(probe)
    await asyncio.sleep(1.0)
    rss0 = server.rss_kib()
    with Meter(server) as meter:
        clients, failures = await open_clients(
            server, count, "idle", concurrency=concurrency, timeout=timeout,
            give_up_after=max(50, count // 50), deadline=deadline,
        )
    try:
        # What holding them costs: heartbeats (a ping every PING_INTERVAL, 25 s) and timers.
        with Meter(server) as held:
            await asyncio.sleep(idle)
        alive = sum(1 for c in clients if not c.closed.done())
        # Idle, but not dead: the newest connection still gets an answer.
        answered = False
        if clients:
            try:
                reply = await clients[-1].call("join", {"room": "bench-idle"}, timeout=10)
                answered = bool(isinstance(reply, dict) and reply.get("ok"))
            except (TimeoutError, OSError):
                answered = False
        rss1 = server.rss_kib()
    finally:
        close_all(clients)
    opened = len(clients)
    return {
        "attempted": count, "connected": opened, "alive_after_idle": alive,
        "failures": len(failures), "failure_kinds": failure_kinds(failures),
        "newest_answers": answered,
        "connect_s": round(meter.wall, 2),
        "connects_per_s": round(opened / meter.wall, 1) if meter.wall else None,
        "server_cpu_us_per_connect": round(meter.server_cpu * 1e6 / max(1, opened), 1),
        "rss_before_mib": round(rss0 / 1024, 1), "rss_after_mib": round(rss1 / 1024, 1),
        "kib_per_connection": round((rss1 - rss0) / opened, 1) if opened else None,
        # Server CPU a second for each 1,000 idle connections (per mille of a core).
        "idle_cpu_per_1000": round(held.server_cpu * 1000 / max(1, opened) / held.wall * 1000, 2)
        if opened and held.wall else None,
    }


# -- max ---------------------------------------------------------------------------------------
async def max_rate(server: Server, *, members: int = 100, senders: int = 10, start: float = 100,
                   p99_bound_ms: float = 50.0, step_s: float = 3.0, steps: int = 8,
                   ceiling: float = 5000) -> dict:
    """Search the highest message rate into one room with p99 under the bound and nothing lost."""
    room = "bench-fanout"
    tally = FanoutTally()
    clients, failures = await open_clients(server, members, "m", room=room, on_message=tally,
                                           give_up_after=10)
    trials: list[dict] = []
    try:
        if len(clients) < members:
            return {"error": f"only {len(clients)} of {members} members connected: {failures[:3]}"}
        await asyncio.sleep(0.5)
        best, worst, rate = None, None, start
        for _ in range(steps):
            # A shared machine has hiccups: a rate fails only if a second try fails too.
            for attempt in range(2):
                step = await _drive(clients[:senders], room, rate, int(rate * step_s), members,
                                    tally, server, drain=5.0, time_limit=step_s * 3 + 5)
                ok = (step["lost"] == 0 and step["ack_errors"] == 0 and step["p99_ms"] is not None
                      and step["p99_ms"] <= p99_bound_ms)
                trials.append({"rate": rate, "ok": ok, "p99_ms": step["p99_ms"],
                               "lost": step["lost"], "deliveries_per_s": step["deliveries_per_s"],
                               "server_cpu_share": step["server_cpu_share"],
                               "foreign_cpu_share": step["foreign_cpu_share_on_server_core"]})
                if ok:
                    break
                await asyncio.sleep(2.0)  # let a backlog clear before the next trial
            if ok:
                best = rate
            else:
                worst = rate
            if worst is None:
                if rate >= ceiling:
                    break
                rate = min(ceiling, rate * 1.6)
            elif best is None:
                rate = rate / 2
            else:
                if worst / best < 1.1:
                    break
                rate = round((best + worst) / 2)
    finally:
        close_all(clients)
    return {"members": members, "senders": senders, "p99_bound_ms": p99_bound_ms,
            "max_rate": best, "max_deliveries_per_s": best * members if best else None,
            "trials": trials}

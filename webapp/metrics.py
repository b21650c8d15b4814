"""``/metrics`` in Prometheus's text format (prometheus-client), and what it counts.

Several processes on one host share PROMETHEUS_MULTIPROC_DIR (set in the environment before the
process starts: prometheus-client decides at import): each writes its values to its own files and
a scrape of any one of them sums them all. The per-event work is a few increments on memory-mapped
values, done once per operation in ``run`` (both adapters call it), once per broadcast in the
client manager (``delivered``), once per pass of the event loop that wrote held events
(``flushed``), and once per SQL statement.

Only trusted callers read it: METRICS_TOKEN as a bearer token, or an address in METRICS_ALLOW.
"""
from __future__ import annotations

import hmac
import ipaddress
import os
import re
from pathlib import Path
from time import perf_counter

from flask import Flask, Response, current_app, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from sqlalchemy import event
from sqlalchemy.engine import Engine

# Acks are mostly well under 10 ms; the tail up to seconds is what an alert looks for.
FAST = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

CONNECTIONS = Gauge("parley_connections", "Open client connections.", ["transport"],
                    multiprocess_mode="livesum")
OPERATIONS = Counter("parley_operations", "Client operations handled (events and /ws ops).",
                     ["op"])
ACKS = Histogram("parley_ack_seconds", "Time from an operation's arrival to its answer.", ["op"],
                 buckets=FAST)
ERRORS = Counter("parley_errors", "Error answers, by error code.", ["code"])
REFUSALS = Counter("parley_rate_limited", "Operations refused by a rate limit, by action.",
                   ["action"])
BROADCASTS = Counter("parley_broadcasts", "Server events sent to a room or a connection.",
                     ["event"])
DELIVERIES = Counter("parley_fanout_deliveries", "Copies of server events sent to connections.",
                     ["event"])
WRITES = Counter("parley_fanout_writes",
                 "Writes of the events held for a WebSocket until a pass of the event loop ended.")
WRITTEN = Counter("parley_fanout_written_packets",
                  "Packets those writes carried (written / writes: events per system call).")
DATABASE = Histogram("parley_database_seconds", "Time of each SQL statement.", buckets=FAST)
QUEUE = Histogram("parley_queue_publish_seconds",
                  "Time to publish a batch of events to the Redis message queue.", buckets=FAST)

# Label lookups (a lock, a tuple, a dict) cost more than the increments: children are kept here.
_operation_children: dict[str, tuple] = {}
_broadcast_children: dict[str, tuple] = {}


def run(name: str, op, member, data, conn):
    """Run operation ``name`` (webapp/chat/ops.py), counting it and timing its answer."""
    started = perf_counter()
    try:
        return op(member, data, conn)
    finally:
        children = _operation_children.get(name)
        if children is None:
            children = _operation_children[name] = (OPERATIONS.labels(name), ACKS.labels(name))
        children[0].inc()
        children[1].observe(perf_counter() - started)


def error(code: str) -> None:
    ERRORS.labels(code).inc()


def refused(action: str) -> None:
    REFUSALS.labels(action).inc()


def connected(transport: str, change: int) -> None:
    CONNECTIONS.labels(transport).inc(change)


def delivered(event_name: str, recipients: int) -> None:
    """One broadcast reached ``recipients`` connections (added at once, not one by one)."""
    children = _broadcast_children.get(event_name)
    if children is None:
        children = _broadcast_children[event_name] = (BROADCASTS.labels(event_name),
                                                      DELIVERIES.labels(event_name))
    children[0].inc()
    if recipients:
        children[1].inc(recipients)


def flushed(writes: int, packets: int) -> None:
    """One pass of the event loop wrote ``packets`` held packets in ``writes`` sends."""
    if writes:
        WRITES.inc(writes)
        WRITTEN.inc(packets)


@event.listens_for(Engine, "before_cursor_execute")
def _query_started(conn, cursor, statement, parameters, context, executemany) -> None:
    conn.info["parley_query_started"] = perf_counter()


@event.listens_for(Engine, "after_cursor_execute")
def _query_done(conn, cursor, statement, parameters, context, executemany) -> None:
    started = conn.info.pop("parley_query_started", None)
    if started is not None:
        DATABASE.observe(perf_counter() - started)


# -- the endpoint ------------------------------------------------------------------------------
def init_app(app: Flask) -> None:
    app.add_url_rule("/metrics", "metrics", _metrics)
    folder = _multiprocess_dir()
    if folder:
        forget_dead_processes(Path(folder))


def _multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or os.environ.get("prometheus_multiproc_dir")


def _metrics():
    refusal = _refusal()
    if refusal is not None:
        return refusal
    folder = _multiprocess_dir()
    if folder:
        forget_dead_processes(Path(folder), live_gauges_only=True)  # a crash: none decremented
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST,
                    headers={"Cache-Control": "no-store"})


def _refusal() -> Response | None:
    """None for a trusted caller; otherwise 401 (a token is set, not sent) or 403."""
    token = current_app.config["METRICS_TOKEN"]
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if token and scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token):
        return None
    if _allowed(request.remote_addr, current_app.config["METRICS_ALLOW"]):
        return None
    if token:
        return Response("Send 'Authorization: Bearer <METRICS_TOKEN>'.\n", 401,
                        {"WWW-Authenticate": "Bearer"}, mimetype="text/plain")
    return Response("Not from an address METRICS_ALLOW lists.\n", 403, mimetype="text/plain")


def _allowed(address: str | None, networks: list[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(net, strict=False) for net in networks)


_PID = re.compile(r"_(\d+)\.db$")


def forget_dead_processes(folder: Path, live_gauges_only: bool = False) -> int:
    """Remove the files of processes no longer running (a restart, a crash), so the folder
    does not grow and a reused pid does not inherit old values; answers how many went. With
    ``live_gauges_only`` (each scrape), only their live gauges (connections): their counters
    stay until a process starts (a start then shows as a counter reset, which rate() handles)."""
    removed = 0
    for path in folder.glob("gauge_live*.db" if live_gauges_only else "*.db"):
        match = _PID.search(path.name)
        if match is None or _running(int(match.group(1))):
            continue
        path.unlink(missing_ok=True)
        removed += 1
    return removed


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: running
        return True
    return True

"""What the console's health page shows: the database and Redis (status, one round trip's
latency), this process's connections and message queue, and every live process with its
connections, read from the presence records in Redis (webapp/presence/shared.py)."""
from __future__ import annotations

import os
import time

import redis
from flask import current_app
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from webapp.extensions import db, socketio
from webapp.redisguard import client_options

PREFIX = "parley:"  # SharedPresence's key prefix


def report() -> dict:
    url = current_app.config["REDIS_URL"]
    return {"database": _timed(_database), "redis": _timed(lambda: _client().ping()) if url else None,
            "process": _process(), "processes": _processes() if url else None}


def _timed(check) -> dict:
    started = time.perf_counter()
    try:
        check()
    except Exception as exc:  # noqa: BLE001 - whatever failed, the page says so
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:200]}
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}


def _database() -> None:
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        raise


def _client() -> redis.Redis:
    options = client_options(current_app.config["REDIS_TIMEOUT"])
    return redis.Redis.from_url(current_app.config["REDIS_URL"], decode_responses=True, **options)


def _process() -> dict:
    """What this process knows of itself: connections by kind, and the message queue."""
    server = socketio.server
    manager = server.manager if server is not None else None
    hub = getattr(manager, "gateway", None)
    queue = getattr(manager, "_queue", None)
    return {
        "pid": os.getpid(),
        "socketio": len(getattr(server.eio, "sockets", {})) if server is not None else 0,
        "websocket": len(hub.connections) if hub is not None else 0,
        # Events published by this process still waiting for Redis (the message queue's lag).
        "queue_backlog": queue.qsize() if queue is not None else None,
        "queue_subscribed": getattr(manager, "subscribed", None),
    }


def _processes() -> list[dict] | None:
    """Every process with a live heartbeat (``host:pid``) and its connections, counted from the
    per-address connection records each one keeps in Redis (MAX_CONNECTIONS_PER_ADDRESS on)."""
    try:
        client = _client()
        procs = sorted(client.smembers(PREFIX + "procs"))
        labels = client.mget([f"{PREFIX}proc:{p}" for p in procs]) if procs else []
        live = [(proc, label) for proc, label in zip(procs, labels, strict=True) if label]
        pipe = client.pipeline(transaction=False)
        for proc, _ in live:
            pipe.smembers(f"{PREFIX}addrs-of:{proc}")
        addresses = pipe.execute()
        for (proc, _), held in zip(live, addresses, strict=True):
            for address in held:
                pipe.hget(f"{PREFIX}conns:{address}", proc)
        counts = iter(pipe.execute())
    except redis.RedisError:  # Redis down: the status above says so
        return None
    return [{"label": label, "connections": sum(int(next(counts) or 0) for _ in held)}
            for (_, label), held in zip(live, addresses, strict=True)]

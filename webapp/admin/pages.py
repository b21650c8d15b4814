"""Console pages for the server: health, rate limits in force, the audit log."""
from __future__ import annotations

import os
import time
from datetime import UTC, datetime

from flask import current_app, render_template, request
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from webapp import audit
from webapp.admin.views import bp
from webapp.extensions import db, socketio
from webapp.ratelimit import ACTIONS


@bp.get("/")
def health():
    """Database and Redis status and latency, this process's connections, the live processes."""
    return render_template("admin/health.html", database=_timed(_database),
                           redis=_timed(_redis) if current_app.config["REDIS_URL"] else None,
                           process=_process(), processes=_processes())


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


def _redis_client():
    import redis

    from webapp.redisguard import client_options

    options = client_options(current_app.config["REDIS_TIMEOUT"])
    return redis.Redis.from_url(current_app.config["REDIS_URL"], **options)


def _redis() -> None:
    _redis_client().ping()


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


def _processes() -> list[str] | None:
    """Every live serving process (host:pid), from the presence heartbeats in Redis."""
    if not current_app.config["REDIS_URL"]:
        return None
    try:
        client = _redis_client()
        procs = sorted(client.smembers("parley:procs"))
        labels = client.mget([b"parley:proc:" + p for p in procs]) if procs else []
    except Exception:  # noqa: BLE001 - Redis down: the status above says so
        return None
    return sorted(label.decode() for label in labels if label)


@bp.get("/limits")
def limits():
    """The RATE_LIMIT_* settings in force (read-only: they come from the environment)."""
    config = current_app.config
    rows = [(f"RATE_LIMIT_{a.upper()}", config[f"RATE_LIMIT_{a.upper()}"]) for a in ACTIONS]
    rows += [("RATE_LIMIT_FLOOD", config["RATE_LIMIT_FLOOD"]),
             ("RATE_LIMIT_ADDRESS_FACTOR", config["RATE_LIMIT_ADDRESS_FACTOR"])]
    others = ("REGISTRATION", "INVITES_BY_MEMBERS", "GUESTS_ALLOWED", "AUDIT_RETENTION_DAYS",
              "MAX_CONNECTIONS", "MAX_CONNECTIONS_PER_ADDRESS", "BAN_ADDRESS_MINUTES",
              "KICK_MINUTES")
    return render_template("admin/limits.html", limits=rows,
                           settings=[(name, config[name]) for name in others])


def _moment(value: str | None) -> datetime | None:
    """A filter's date or date and time (the form's datetime-local, UTC), or None."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@bp.get("/audit")
def audit_log():
    """The audit log, newest first, filtered by action, actor and time; paged by id."""
    args = request.args
    filters = {"action": args.get("action", "").strip()[:48] or None,
               "actor": args.get("actor", "").strip()[:64] or None,
               "since": _moment(args.get("since")), "until": _moment(args.get("until"))}
    before = args.get("before", type=int)
    rows = audit.events(**filters, before=before)
    more = len(rows) == audit.PAGE
    query = {k: v for k, v in args.items() if k != "before"}
    return render_template("admin/audit.html", events=[r.to_dict() for r in rows],
                           actions=audit.actions(), args=args, query=query,
                           next_before=rows[-1].id if more else None)

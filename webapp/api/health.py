"""Health checks for load balancers and platforms: readiness and liveness."""
import logging
import os

from flask import jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from webapp.api.blueprint import bp
from webapp.extensions import db, presence

log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz():
    """Readiness: 200 while this process can serve chat, 503 when it cannot; for load balancers.

    Only the database decides: without it nothing can be stored. Redis down leaves every process
    able to serve its own clients (live delivery to other processes pauses, and clients catch up
    when it is back), so it is reported (``"redis": "unreachable"``, ``"degraded": true``) but
    does not take the process -- and with it every other process -- out of the load balancer.
    Also served at ``/healthz``. ``pid`` says which process answered (behind a load balancer).
    """
    checks = {"database": _database_status()}
    redis_ok = presence.redis_ok()
    if redis_ok is not None:
        checks["redis"] = "ok" if redis_ok else "unreachable"
    ok = checks["database"] == "ok"
    degraded = any(status != "ok" for status in checks.values())
    return jsonify(ok=ok, degraded=degraded, pid=os.getpid(), **checks), 200 if ok else 503


@bp.get("/livez")
def livez():
    """Liveness: 200 whenever the process answers at all (restart it only when this fails)."""
    return jsonify(ok=True, pid=os.getpid())


def _database_status() -> str:
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        db.session.rollback()
        log.warning("health check: the database is unreachable: %s", exc)
        return "unreachable"
    return "ok"

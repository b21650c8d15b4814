"""REST endpoints over the same chat service."""
import logging
import os

from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from webapp.chat import service
from webapp.extensions import db, presence

bp = Blueprint("api", __name__)
log = logging.getLogger(__name__)

from webapp.api import rooms as _rooms  # noqa: E402,F401  (routes attach to bp)


@bp.get("/rooms")
def rooms():
    return jsonify(rooms=service.list_rooms())


@bp.get("/healthz")
def healthz():
    """200 when the database and (if configured) Redis answer, else 503; for probes and ops.

    Also served at ``/healthz``. ``pid`` says which process answered (behind a load balancer).
    """
    checks = {"database": _database_status()}
    redis_ok = presence.redis_ok()
    if redis_ok is not None:
        checks["redis"] = "ok" if redis_ok else "unreachable"
    ok = all(status == "ok" for status in checks.values())
    return jsonify(ok=ok, pid=os.getpid(), **checks), 200 if ok else 503


def _database_status() -> str:
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        db.session.rollback()
        log.warning("health check: the database is unreachable: %s", exc)
        return "unreachable"
    return "ok"

"""The audit log: security-relevant actions (logins, tokens, roles, bans, moderators' deletions,
console actions, invitations) with who, when, from where and on what.

``record`` is called after the action's own commit: it writes and commits one row of its own, so
a failed audit write never undoes the action, and is logged instead. Nothing is recorded per
message: the message path never writes here. Rows older than AUDIT_RETENTION_DAYS are removed by
the hourly compaction (``purge``, from webapp/chat/cluster.py). docs/operations.md, "Audit log".
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, has_request_context, request
from sqlalchemy import delete, select
from sqlalchemy.exc import SQLAlchemyError

from webapp.extensions import db
from webapp.models import AuditEvent, User, utcnow

log = logging.getLogger(__name__)
PAGE = 50


def record(action: str, *, actor: Any = None, target: str | None = None,
           address: str | None = None, details: dict | None = None) -> None:
    """Write one audit row: ``actor`` is a User, a chat Member or None (the system, the shell);
    ``address`` defaults to the member's or the current request's."""
    if hasattr(actor, "_get_current_object"):  # Flask-Login's current_user
        actor = actor._get_current_object()
    actor_id = getattr(actor, "user_id", None) if not isinstance(actor, User) else actor.id
    if address is None:
        address = getattr(actor, "address", None) or (
            request.remote_addr if has_request_context() else None)
    row = AuditEvent(
        action=action[:48], actor_id=actor_id, actor_name=getattr(actor, "name", None),
        target=None if target is None else str(target)[:200], address=address,
        details=details or None, at=utcnow(),
    )
    try:
        db.session.add(row)
        db.session.commit()
    except SQLAlchemyError:  # the action stands; the log says what was not recorded
        db.session.rollback()
        log.exception("audit: could not record %s by %s on %s", action, row.actor_name, target)


def events(*, action: str | None = None, actor: str | None = None,
           since: datetime | None = None, until: datetime | None = None,
           before: int | None = None, limit: int = PAGE) -> list[AuditEvent]:
    """The newest rows matching the filters, ``limit`` of them, below id ``before`` (paging)."""
    query = select(AuditEvent)
    if action:
        query = query.where(AuditEvent.action == action)
    if actor:
        query = query.where(AuditEvent.actor_name == actor)
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if until is not None:
        query = query.where(AuditEvent.at < until)
    if before is not None:
        query = query.where(AuditEvent.id < before)
    return list(db.session.scalars(query.order_by(AuditEvent.id.desc()).limit(limit)))


def actions() -> list[str]:
    """Every action name recorded so far (the console's filter offers them)."""
    return list(db.session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))


def purge(now: datetime | None = None) -> int:
    """Remove rows older than AUDIT_RETENTION_DAYS; answers how many went. Several processes
    doing it at once remove each row once."""
    days = current_app.config["AUDIT_RETENTION_DAYS"]
    cutoff = (now or utcnow()) - timedelta(days=days)
    removed = db.session.execute(delete(AuditEvent).where(AuditEvent.at < cutoff)).rowcount
    db.session.commit()
    return removed

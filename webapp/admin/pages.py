"""Console pages for the server: health, rate limits in force, the audit log."""
from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app, render_template, request

from webapp import audit
from webapp.admin.status import report
from webapp.admin.views import bp
from webapp.ratelimit import actions


@bp.get("/")
def health():
    """Database and Redis status and latency, this process's connections, the live processes."""
    return render_template("admin/health.html", **report())


@bp.get("/limits")
def limits():
    """The RATE_LIMIT_* settings in force (read-only: they come from the environment)."""
    config = current_app.config
    rows = [(f"RATE_LIMIT_{a.upper()}", config[f"RATE_LIMIT_{a.upper()}"]) for a in actions(config)]
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

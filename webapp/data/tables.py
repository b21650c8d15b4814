"""What an export holds: the table of exported tables (docs/export.md), and how a row becomes
JSON and back. Adding a table is one ``Exported(...)`` line in ``TABLES``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Boolean, DateTime, Table

from webapp import models
from webapp.notify import models as notify

FORMAT = 1  # parley-export.json's "format": raised when a reader of the old one would misread


@dataclass(frozen=True)
class Exported:
    """One table in the archive, in primary-key order; ``omit`` columns never leave the server
    (secrets, derived values recomputed on import); ``secret`` ones only when asked."""

    model: type
    omit: frozenset = field(default_factory=frozenset)
    secret: frozenset = field(default_factory=frozenset)

    @property
    def table(self) -> Table:
        return self.model.__table__

    @property
    def name(self) -> str:
        return self.table.name

    def columns(self, with_secrets: bool) -> list:
        hidden = self.omit | (frozenset() if with_secrets else self.secret)
        return [c for c in self.table.columns if c.name not in hidden]


# In dependency order: a row's foreign keys point at rows of tables above it. Not exported
# (docs/export.md): api_tokens, two_factor, recovery_codes and the integrations' tables
# (webhooks, webhook_deliveries, incoming_webhooks, slash_commands): secrets, made again after
# an import; push_subscriptions (browsers' keys), the notifications outbox and notify_cursor
# (delivery state); file_chunks (the bytes are files/<id>), and users.session_secret (a new one
# on import ends no login that could exist there).
TABLES = [
    Exported(models.User, omit=frozenset({"session_secret"}),
             secret=frozenset({"password_hash"})),
    Exported(models.Room),
    Exported(models.RoomMember),
    # search_text is the text folded (webapp/chat/folding.py): recomputed on import.
    Exported(models.Message, omit=frozenset({"search_text"})),
    Exported(models.MessageEdit),
    Exported(models.Reaction),
    Exported(models.File),
    Exported(models.Ban),
    Exported(models.Block),
    Exported(models.RoomRead),
    Exported(models.Mention),
    Exported(notify.NotifySetting),
    Exported(notify.NotifyAccount),
    # Single sign-on links (issuer, subject) -> account: not secret, and without them people
    # signing in by SSO would get new accounts.
    Exported(models.OidcIdentity),
    # token_hash with the password hashes only: without it the imported links no longer work
    # (a new, unmatchable hash is stored), as imported accounts have no password.
    Exported(models.Invitation, secret=frozenset({"token_hash"})),
    Exported(models.AuditEvent),
]


def to_json(column, value):
    """A column's value as JSON: datetimes as ISO 8601 in UTC (microseconds kept)."""
    if value is None:
        return None
    if isinstance(column.type, DateTime):
        if value.tzinfo is None:  # SQLite hands datetimes back naive: they are UTC
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return value


def from_json(column, value):
    """The inverse of ``to_json``; anything else of the wrong type is refused by the database."""
    if value is None:
        return None
    if isinstance(column.type, DateTime):
        return datetime.fromisoformat(value)  # "Z" too, from Python 3.11
    if isinstance(column.type, Boolean):
        return bool(value)
    return value

"""The team-admin tables (migration 0012) on SQLite and PostgreSQL: the schema the models say,
audit rows with JSON details and their purge, invitation uses counted atomically, archived
rooms, and a downgrade and upgrade that keep the rooms."""
from __future__ import annotations

from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from webapp import accounts, audit, invitations
from webapp.chat import archive
from webapp.errors import AppError
from webapp.extensions import db, migrate
from webapp.models import AuditEvent, Room, utcnow


def test_team_admin_tables_work_on_both_databases(db_app):
    upgrade()
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts=migrate.alembic_ctx_kwargs)
        assert compare_metadata(context, db.metadata) == []

    admin = accounts.create_user("root", "long enough password", admin=True)
    audit.record("login", actor=admin, target="user:root", details={"nested": {"a": [1, 2]}})
    old = AuditEvent(action="login", at=utcnow() - timedelta(days=400), target="old")
    db.session.add(old)
    db.session.commit()
    assert audit.events(actor="root")[0].details == {"nested": {"a": [1, 2]}}
    assert audit.purge() == 1 and [e.target for e in audit.events()] == ["user:root"]

    _, clear = invitations.create(admin, max_uses=2, hours=1)
    invitations.take(clear)
    invitations.take(clear)
    with pytest.raises(AppError) as refused:
        invitations.take(clear)
    assert refused.value.code == "invitation_used_up"

    room = Room(name="old-news")
    db.session.add(room)
    db.session.commit()
    room.archived_at = utcnow()
    db.session.commit()
    archive.forget()
    assert room.id in archive.archived_ids()

    db.session.remove()  # no transaction of ours holds the tables the migrations alter
    downgrade(revision="0011")
    upgrade()
    assert db.session.query(Room).filter_by(name="old-news").one().archived_at is None

"""Migration 0014 (sign-in) on SQLite and PostgreSQL: upgrading keeps every account and what
refers to it (SQLite rebuilds ``users`` with foreign keys off), users.email is made only if
migration 0010 has not made it, and the new tables' rules hold."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from webapp.extensions import db, migrate
from webapp.models import OidcIdentity, User


def add_user_with_a_token() -> None:
    with db.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO users (name, name_key, password_hash, is_admin, created_at, session_secret)"
            " VALUES ('bob', 'bob', 'x', false, CURRENT_TIMESTAMP, 's')"))
        conn.execute(text(
            "INSERT INTO api_tokens (user_id, name, token_hash, prefix, created_at)"
            " VALUES (1, 'bot', 'h', 'pt_', CURRENT_TIMESTAMP)"))


def no_difference() -> bool:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts=migrate.alembic_ctx_kwargs)
        return compare_metadata(context, db.metadata) == []


def test_upgrading_keeps_accounts_and_their_tokens(db_app):
    upgrade(revision="0013")
    add_user_with_a_token()
    upgrade()
    with db.engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM api_tokens")) == 1
        assert conn.scalar(text("SELECT name FROM users")) == "bob"
    assert no_difference()
    downgrade(revision="0013")
    upgrade()  # the e-mail columns stayed; upgrading again finds them
    assert no_difference()


def test_email_columns_made_by_0010_are_left_alone(db_app):
    upgrade(revision="0013")
    add_user_with_a_token()
    with db.engine.begin() as conn:  # as the notifications branch's 0010 adds them
        conn.execute(text("ALTER TABLE users ADD COLUMN email VARCHAR(254)"))
        conn.execute(text("ALTER TABLE users ADD COLUMN email_key VARCHAR(254)"))
    upgrade()
    with db.engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM api_tokens")) == 1


def test_one_account_per_address_and_per_identity(db_app):
    upgrade()
    db.session.add_all([
        User(name="a", name_key="a", password_hash="x", email="A@x.org", email_key="a@x.org"),
        User(name="b", name_key="b", password_hash="x", email="a@X.org", email_key="a@x.org"),
    ])
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    db.session.add(User(name="a", name_key="a", password_hash="x"))
    db.session.commit()
    db.session.add_all([OidcIdentity(issuer="https://idp", subject="1", user_id=1),
                        OidcIdentity(issuer="https://idp", subject="1", user_id=1)])
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()

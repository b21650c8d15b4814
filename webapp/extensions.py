"""Extension objects, created unbound; ``create_app`` binds them to an app."""
import logging
import sqlite3

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

from webapp.activity import Activity
from webapp.presence import Presence
from webapp.ratelimit import RateLimits


class Base(DeclarativeBase):
    # Named constraints let Alembic alter them later, SQLite's batch mode included.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """Tune SQLite for a chat server: many readers, one writer, short transactions."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    # WAL: readers never block the writer. synchronous=NORMAL: a commit survives a crash of the
    # process (SIGKILL) but the last ones may be lost on power failure; see docs/operations.md.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


# expire_on_commit=False: a message is shaped into its payload right after its commit; expiring
# would reload the row we just wrote (measured: ~35% of an ack's server time, bench "ack").
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})


def release_session(_exc=None) -> None:
    """End an event's (or request's) database session without letting its failure escape.

    When the database drops while an event is in flight, the event's own work may be done (its
    answer ready) and only the session's closing ROLLBACK fails on the dead connection. Raised
    from the app context's teardown, that error would cost the client its ack; here it is logged
    and the session forgotten, and Flask-SQLAlchemy's own teardown finds nothing left to close.
    Registered after ``db.init_app``, so it runs first.
    """
    try:
        db.session.remove()
    except Exception:  # the connection is gone; the pool replaces it
        logging.getLogger(__name__).warning("closing a database session failed", exc_info=True)
        db.session.registry.clear()


def models_only(obj, name, type_, reflected, compare_to) -> bool:
    """What autogenerate compares: the models' schema, not the search index that migration 0007
    keeps beside it (SQLite's FTS5 table messages_search and its shadow tables, PostgreSQL's
    trigram index messages_search_trgm), which no model describes."""
    return not (name or "").startswith("messages_search")


# Batch mode lets SQLite (no ALTER COLUMN) run the same migrations as PostgreSQL.
migrate = Migrate(render_as_batch=True, include_object=models_only)
socketio = SocketIO()
login_manager = LoginManager()
login_manager.login_view = "auth.login"
csrf = CSRFProtect()
ratelimits = RateLimits()
presence = Presence()
activity = Activity()

"""Fixtures shared by every test layer: an app on a fresh database, socket clients, live servers."""
from __future__ import annotations

import pytest
from flask_migrate import upgrade

from tests.support import LiveServer
from webapp import create_app
from webapp.extensions import socketio
from webapp.notify.webpush import generate_keys


@pytest.fixture
def app(tmp_path):
    """An app on its own migrated SQLite file, in threading mode (no eventlet in the test process)."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'test.sqlite3'}",
            "FILE_DIR": str(tmp_path / "files"),
            "ASYNC_MODE": "threading",
            "LOG_LEVEL": "WARNING",
        }
    )
    with app.app_context():
        upgrade()
    yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def connect(app):
    """Open Flask-SocketIO test clients as guests: ``connect("alice")``."""
    opened = []

    def _connect(name: str | None = None, auth: object = None):
        client = socketio.test_client(app, auth=auth if auth is not None else {"name": name})
        opened.append(client)
        return client

    yield _connect
    for client in opened:
        if client.is_connected():
            client.disconnect()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """One real ``python wsgi.py`` (eventlet) for the session; tests use their own rooms and names."""
    # With VAPID keys, so that the push operations work (nothing is pushed without a subscriber).
    server = LiveServer(tmp_path_factory.mktemp("live"), VAPID_PRIVATE_KEY=generate_keys()[0])
    server.start()
    yield server
    server.stop()


@pytest.fixture
def fresh_server(tmp_path):
    """A real server of the test's own, for tests that stop and restart it."""
    server = LiveServer(tmp_path)
    yield server
    server.stop()

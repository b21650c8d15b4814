"""Fixtures of the Socket.IO handler tests (Flask-SocketIO's test client, in-process)."""
import pytest

from webapp.extensions import socketio


@pytest.fixture
def from_address(app):
    """A Socket.IO test client from a given address: ``from_address("10.0.0.1", name="g")``."""
    opened = []

    def _connect(address, **auth):
        http = app.test_client()
        http.environ_base["REMOTE_ADDR"] = address
        client = socketio.test_client(app, auth=auth, flask_test_client=http)
        opened.append(client)
        return client

    yield _connect
    for client in opened:
        if client.is_connected():
            client.disconnect()

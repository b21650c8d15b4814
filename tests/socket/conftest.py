"""Fixtures of the Socket.IO handler tests (Flask-SocketIO's test client, in-process)."""
import pytest

from webapp import accounts
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


@pytest.fixture
def users(app):
    """Connect registered users by token: ``users("owner", admin=True)``."""
    def _connect(name, admin=False):
        with app.app_context():
            user = accounts.create_user(name, "long enough password", admin=admin)
            token = accounts.create_token(user, "t")[1]
        client = socketio.test_client(app, auth={"token": token})
        assert client.is_connected()
        return client
    return _connect


def call(client, event, data=None):
    """Emit ``event`` and answer its ack."""
    return client.emit(event, data, callback=True)


def received(client, event):
    """The payloads of every ``event`` the client got since it last looked (all events)."""
    return [i["args"] if i["name"] == "message" else i["args"][0]
            for i in client.get_received() if i["name"] == event]

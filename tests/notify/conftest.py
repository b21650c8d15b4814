"""Fixtures of the notification tests: an app with Web Push keys, users connected by token."""
import pytest
from flask_migrate import upgrade

from tests.socket.conftest import users  # noqa: F401  (the same fixture here)
from webapp import create_app
from webapp.notify.webpush import generate_keys


@pytest.fixture
def app(tmp_path):
    """The root conftest's app, with VAPID keys and push services on loopback allowed."""
    app = create_app({
        "TESTING": True, "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'test.sqlite3'}",
        "FILE_DIR": str(tmp_path / "files"), "ASYNC_MODE": "threading", "LOG_LEVEL": "WARNING",
        "VAPID_PRIVATE_KEY": generate_keys()[0], "PUSH_SERVICE_HOSTS": ["127.0.0.1", ".push.test"],
    })
    with app.app_context():
        upgrade()
    yield app


def give_email(app, name: str, address: str) -> None:
    """Set ``name``'s address as the settings page does (resets.set_email, with the password)."""
    from webapp import accounts, resets

    with app.app_context():
        resets.set_email(accounts.get_user(name), address)

"""Fixtures of the integration tests: a loopback HTTP receiver, tokens of registered users."""
import pytest

from tests.integrations.receiver import Receiver
from webapp import accounts


@pytest.fixture
def receiver():
    opened = []

    def _open(answers=None) -> Receiver:
        opened.append(Receiver(answers))
        return opened[-1]

    yield _open
    for server in opened:
        server.close()


@pytest.fixture
def loopback_allowed(app):
    """The tests' targets are on loopback, which the SSRF guard refuses unless allowed."""
    app.config["WEBHOOK_ALLOWED_NETWORKS"] = ["127.0.0.0/8"]
    return app


@pytest.fixture
def token_of(app):
    """A bearer token of a new registered user: ``token_of("owner", admin=False)``."""
    def _token(name: str, admin: bool = False) -> str:
        with app.app_context():
            user = accounts.create_user(name, "long enough password", admin=admin)
            return accounts.create_token(user, "t")[1]
    return _token

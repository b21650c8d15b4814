"""Fixtures of the fault-injection suite (docs/delivery.md)."""
import pytest

from tests.delivery.support import fault_seed

TRANSPORTS = ["websocket", "polling"]


@pytest.fixture(scope="session")
def seed():
    return fault_seed()


@pytest.fixture(params=TRANSPORTS)
def transport(request):
    return request.param


# PostgreSQL and Redis, as the scale-out tests have them (skipped locally when missing).
from tests.integration.conftest import postgres_url, redis_url  # noqa: F401

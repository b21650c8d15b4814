"""Fixtures of the attack tests."""
import pytest
import redis

from tests.integration.conftest import require


@pytest.fixture
def shared_redis(request):
    """The test module's own Redis database (its ``REDIS_URL``), empty before and after, for
    several servers to share; a missing Redis fails under CI=true, never skips."""
    url = request.module.REDIS_URL
    try:
        store = redis.Redis.from_url(url, socket_timeout=3)
        store.ping()
    except redis.RedisError:
        require(False, f"no Redis at {url}")
    store.flushdb()
    yield url
    store.flushdb()

"""webapp/activity.py: who has a page in the foreground, on one process and across processes."""
import time

import pytest
import redis

from tests.integration.conftest import REDIS_URL, _reachable
from webapp import create_app
from webapp.activity import Activity


def make(tmp_path, name, **more):
    return create_app({"TESTING": True, "SECRET_KEY": "t", "ASYNC_MODE": "threading",
                       "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / name}", **more})


def test_idle_and_away_follow_the_last_foreground_report(tmp_path):
    activity = Activity()
    activity.init_app(make(tmp_path, "a.db", AWAY_AFTER=60))
    now = time.time()
    assert activity.idle_seconds(7, now) == float("inf")  # never reported: idle, away
    assert activity.away([7], now) == {7: True}
    activity.touch(7, now - 30)
    assert activity.idle_seconds(7, now) == pytest.approx(30)
    assert activity.away([7, 8], now) == {7: False, 8: True}
    assert activity.away([7], now + 31) == {7: True}  # 61 s after the report


def test_processes_share_reports_through_redis(tmp_path):
    if not _reachable(lambda: redis.Redis.from_url(REDIS_URL, socket_timeout=3).ping()):
        pytest.fail(f"Redis is not reachable at {REDIS_URL}")
    one, two = Activity(), Activity()
    one.init_app(make(tmp_path, "a.db", REDIS_URL=REDIS_URL))
    two.init_app(make(tmp_path, "b.db", REDIS_URL=REDIS_URL))
    user = int(time.time() * 1000) % 10**9  # not a user another test run reported
    now = time.time()
    one.touch(user, now)
    assert two.last_active([user])[user] == pytest.approx(now)


def test_a_redis_outage_falls_back_to_this_process(tmp_path):
    activity = Activity()
    activity.init_app(make(tmp_path, "a.db", REDIS_URL="redis://127.0.0.1:1/0", REDIS_TIMEOUT=0.2))
    activity.touch(5, 1000.0)  # the write to Redis fails; the local report stays
    assert activity.last_active([5]) == {5: 1000.0}

"""Rate limits' local counters: fixed windows, expired counters dropped, no thread per hit."""
import threading

from limits import parse
from limits.strategies import FixedWindowRateLimiter

from tests.support import eventually
from webapp.ratelimit import LocalCounters, RateLimits


def test_a_window_admits_its_amount_and_then_starts_again():
    limiter = FixedWindowRateLimiter(LocalCounters())
    item = parse("3/second")
    assert [limiter.hit(item, "message", "alice") for _ in range(4)] == [True, True, True, False]
    assert limiter.hit(item, "message", "bob")  # a key of its own
    stats = limiter.get_window_stats(item, "message", "alice")
    assert stats.remaining == 0
    # The window ends within a second (and a little, on a busy machine); then it counts anew.
    eventually(lambda: limiter.get_window_stats(item, "message", "alice").remaining == 3, timeout=3)
    assert limiter.hit(item, "message", "alice")
    assert limiter.get_window_stats(item, "message", "alice").remaining == 2


def test_expired_counters_are_dropped_and_no_thread_is_started():
    storage = LocalCounters()
    storage.SWEEP_S = 0.0  # walk on every hit, for the test
    threads = threading.active_count()
    for i in range(1000):
        storage.incr(f"message/{i}", 0.5)
    assert threading.active_count() == threads  # limits' memory:// starts a timer thread here
    assert len(storage) == 1000
    eventually(lambda: storage.get("message/999") == 0, timeout=3)  # its window is over
    storage.incr("late", 60)  # a hit walks the counters
    assert len(storage) == 1 and storage.get("late") == 1


def test_the_app_counts_in_local_counters_without_redis(app):
    limits = app.extensions["parley.ratelimits"]
    assert isinstance(limits._limiter.storage, LocalCounters)
    assert isinstance(limits._local.storage, LocalCounters)
    assert isinstance(limits, RateLimits)

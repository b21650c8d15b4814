"""SharedPresence against a real Redis: liveness by heartbeat, takeover, reaping, republishing."""
import uuid

import pytest

from webapp.presence.local import LocalPresence
from webapp.presence.shared import SharedPresence

pytestmark = pytest.mark.integration


@pytest.fixture
def processes(redis_url):
    """Two processes' views of presence under a prefix of the test's own."""
    prefix = f"parley-test-{uuid.uuid4().hex[:8]}:"
    made = []

    def make():
        shared, local = SharedPresence(redis_url, ttl=5, prefix=prefix), LocalPresence()
        shared.resync(local)
        made.append(shared)
        return shared, local

    yield make
    keys = made[0].redis.keys(prefix + "*")
    if keys:
        made[0].redis.delete(*keys)


def test_names_are_unique_across_processes_until_the_holder_dies(processes):
    (a, _), (b, _) = processes(), processes()
    assert a.claim_name("alice", "sid-1")
    assert not b.claim_name("alice", "sid-2")
    a.forget()  # a's heartbeat is gone: as after a crash plus the TTL
    assert b.claim_name("alice", "sid-2")


def test_members_count_live_processes_only_and_reaping_reports_who_vanished(processes):
    (a, _), (b, _) = processes(), processes()
    a.set_member("lobby", "alice", 1)
    a.set_member("lobby", "both", 1)
    b.set_member("lobby", "bob", 1)
    b.set_member("lobby", "both", 2)
    assert a.members("lobby") == b.members("lobby") == {"alice", "bob", "both"}
    a.forget()
    assert b.members("lobby") == {"bob", "both"}
    assert sorted(b.reap()) == [("lobby", "alice")]  # "both" is still on b
    assert b.reap() == []


def test_a_lost_redis_state_is_republished_from_the_local_one(processes):
    a, local = processes()
    local.claim_name("alice", "sid-1")
    local.add("lobby", "alice", "sid-1")
    a.resync(local)
    a.redis.delete(*a.redis.keys(a.prefix + "*"))  # what a Redis restart without persistence does
    assert a.members("lobby") == set()
    assert a.beat(local) == []
    assert a.members("lobby") == {"alice"}
    b, _ = processes()
    assert not b.claim_name("ALICE".casefold(), "sid-9")


def test_a_users_rooms_are_found_on_every_live_process(processes):
    """Where a profile change is announced: the rooms the person is in, on any process."""
    (a, _), (b, _) = processes(), processes()
    a.set_member("lobby", "alice", 1)
    b.set_member("design", "alice", 2)
    b.set_member("lobby", "alice", 1)
    b.set_member("random", "bob", 1)
    assert a.rooms_with("alice") == b.rooms_with("alice") == {"lobby", "design"}
    assert a.rooms_with("bob") == {"random"} and a.rooms_with("carol") == set()
    b.set_member("design", "alice", 0)
    b.forget()  # b crashed: its rooms no longer count
    assert a.rooms_with("alice") == {"lobby"}

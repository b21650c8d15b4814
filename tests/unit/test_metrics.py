"""Who may read /metrics (METRICS_TOKEN, METRICS_ALLOW), and the folder of dead processes."""
from __future__ import annotations

import os

import pytest

from webapp import create_app
from webapp.metrics import forget_dead_processes


def metrics_app(tmp_path, **settings):
    return create_app({"TESTING": True, "SECRET_KEY": "x", "ASYNC_MODE": "threading",
                       "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'm.sqlite3'}",
                       "LOG_LEVEL": "WARNING", **settings})


@pytest.mark.parametrize("token, allow, address, header, status", [
    (None, ["127.0.0.1/8", "::1/128"], "127.0.0.1", None, 200),
    (None, ["127.0.0.1/8", "::1/128"], "::1", None, 200),
    (None, ["127.0.0.1/8", "::1/128"], "203.0.113.9", None, 403),
    (None, ["10.0.0.0/8"], "10.1.2.3", None, 200),
    (None, ["10.0.0.0/8"], "11.1.2.3", None, 403),
    (None, [], "127.0.0.1", None, 403),
    ("s3cret", [], "203.0.113.9", "Bearer s3cret", 200),
    ("s3cret", [], "203.0.113.9", "bearer s3cret", 200),
    ("s3cret", [], "203.0.113.9", "Bearer wrong", 401),
    ("s3cret", [], "203.0.113.9", "Basic s3cret", 401),
    ("s3cret", [], "203.0.113.9", None, 401),
    ("s3cret", ["127.0.0.1/32"], "127.0.0.1", None, 200),
    (None, [], "203.0.113.9", "Bearer ", 403),  # no token set: a bearer opens nothing
])
def test_who_may_read_it(tmp_path, token, allow, address, header, status):
    app = metrics_app(tmp_path, METRICS_TOKEN=token, METRICS_ALLOW=allow)
    headers = {"Authorization": header} if header else {}
    answer = app.test_client().get("/metrics", headers=headers,
                                   environ_base={"REMOTE_ADDR": address})
    assert answer.status_code == status
    assert ("parley_operations" in answer.text) == (status == 200)


def test_a_dead_processes_files_go_and_live_ones_stay(tmp_path):
    dead = 2 ** 22 + 12345  # above pid_max's default: never a running process
    names = [f"counter_{os.getpid()}.db", f"gauge_livesum_{os.getpid()}.db",
             f"counter_{dead}.db", f"gauge_livesum_{dead}.db"]
    for name in names:
        (tmp_path / name).write_bytes(b"")
    assert forget_dead_processes(tmp_path, live_gauges_only=True) == 1
    assert (tmp_path / f"counter_{dead}.db").exists()
    assert forget_dead_processes(tmp_path) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names[:2])

"""Repeats collapsed: the first record of a kind in full, the rest counted, one line with the count."""
from __future__ import annotations

import io
import logging
import re
import subprocess
import sys
import textwrap
import threading
import uuid

import pytest

from tests.support import ROOT
from webapp import logs

RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (.*)$", re.MULTILINE)


def records(text: str) -> list[str]:
    """The first line of each record written, without its time."""
    return RECORD.findall(text)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Captured:
    """A logger of its own writing through ``logs.Handler`` into a string, on a fake clock."""

    def __init__(self, seconds: float, **options) -> None:
        self.clock = Clock()
        self.stream = io.StringIO()
        options.setdefault("clock", self.clock)
        self.handler = logs.Handler(seconds, stream=self.stream, **options)
        self.name = f"tests.logs.{uuid.uuid4().hex[:8]}"
        self.log = self.logger()

    def logger(self, suffix: str = "") -> logging.Logger:
        logger = logging.getLogger(self.name + suffix)
        if not suffix:
            logger.addHandler(self.handler)
            logger.propagate = False  # pytest's handlers on the root see none of this
            logger.setLevel(logging.DEBUG)
        return logger

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self) -> list[str]:
        """The records' first lines, without the time."""
        return records(self.text)

    def close(self) -> None:
        self.log.removeHandler(self.handler)


@pytest.fixture
def captured():
    made = []

    def make(seconds: float = 10, **options) -> Captured:
        made.append(Captured(seconds, **options))
        return made[-1]

    yield make
    for each in made:
        each.close()


def summary(c: Captured, level: str, text: str, count: int, seconds: float) -> str:
    return f"{level} {c.name}: {text} (repeated {count} times in the last {seconds} s)"


def fail(log: logging.Logger, exc_type: type[Exception] = ZeroDivisionError, n: int = 1) -> None:
    for i in range(n):
        try:
            raise exc_type(f"failure {i}")
        except exc_type:
            log.exception("unhandled error in socket event")


def test_the_first_is_logged_in_full_and_the_repeats_only_counted(captured):
    c = captured()
    fail(c.log, n=500)
    assert c.text.count("Traceback") == 1 and "failure 0" in c.text
    assert c.lines() == [f"ERROR {c.name}: unhandled error in socket event"]

    c.clock.now += 10  # the interval is over: the next record of any kind brings the count
    c.log.info("something else")
    assert c.lines()[1:] == [
        summary(c, "ERROR", "unhandled error in socket event [ZeroDivisionError]", 499, 10),
        f"INFO {c.name}: something else",
    ]
    fail(c.log)  # a new interval: in full again
    assert c.text.count("Traceback") == 2


def test_the_summary_repeats_a_message_with_its_arguments_on_one_line(captured):
    c = captured()
    for i in range(3):
        c.log.warning("health check: the database is unreachable: %s", f"error {i}\n\tdetail")
    c.handler.repeats.flush(everything=True)
    assert c.lines() == [
        f"WARNING {c.name}: health check: the database is unreachable: error 0",
        summary(c, "WARNING", "health check: the database is unreachable: error 1 ...", 2, 0),
    ]


def test_a_kind_seen_once_writes_no_summary(captured):
    c = captured()
    c.log.error("once")
    c.clock.now += 60
    c.log.error("again, after the interval")
    c.handler.repeats.flush(everything=True)
    assert c.lines() == [f"ERROR {c.name}: once", f"ERROR {c.name}: again, after the interval"]


def room_failed(room: str = "a", level: int = logging.ERROR, suffix: str = ""):
    return lambda c: c.logger(suffix).log(level, "room %s: failed", room)


@pytest.mark.parametrize(
    "first,second,logged",
    [
        (room_failed("a"), room_failed("b"), 1),  # the same template with other arguments
        (room_failed("a"), lambda c: c.log.error("room a: failed"), 2),  # another template
        (room_failed(), room_failed(level=logging.WARNING), 2),
        (room_failed(), room_failed(suffix=".child"), 2),  # another logger
        (lambda c: fail(c.log, KeyError), lambda c: fail(c.log, ValueError), 2),
    ],
    ids=["arguments", "template", "level", "logger", "exception"],
)
def test_what_makes_a_kind(captured, first, second, logged):
    c = captured()
    for _ in range(3):
        first(c)
        second(c)
    assert len(c.lines()) == logged


def test_kinds_are_counted_independently(captured):
    c = captured()
    for _ in range(4):
        c.log.error("a")
        fail(c.log, KeyError)
        fail(c.log, ValueError)
    c.clock.now += 10
    c.handler.repeats.flush()
    summaries = sorted(line for line in c.lines() if "repeated" in line)
    assert summaries == [
        summary(c, "ERROR", "a", 3, 10),
        summary(c, "ERROR", "unhandled error in socket event [KeyError]", 3, 10),
        summary(c, "ERROR", "unhandled error in socket event [ValueError]", 3, 10),
    ]


def test_the_number_of_kinds_tracked_is_capped_and_no_count_is_lost(captured):
    c = captured(max_kinds=3)
    for kind in "abc":
        c.log.error(f"kind {kind}")
        c.log.error(f"kind {kind}")
    c.log.error("kind d")  # a fourth: the oldest interval (a) ends early, with its count
    assert c.handler.repeats.tracked == 3
    assert c.lines()[-2:] == [f"ERROR {c.name}: kind a (repeated once in the last 0 s)",
                              f"ERROR {c.name}: kind d"]
    for i in range(10_000):
        c.log.error(f"kind {i}")
    assert c.handler.repeats.tracked == 3


def test_zero_seconds_turns_collapsing_off(captured):
    c = captured(0)
    fail(c.log, n=3)
    c.handler.repeats.flush(everything=True)
    assert c.text.count("Traceback") == 3 and "repeated" not in c.text


def test_threads_logging_at_once_lose_no_count(captured):
    c = captured()
    start = threading.Barrier(8)

    def run():
        start.wait()
        fail(c.log, n=250)

    threads = [threading.Thread(target=run) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    c.handler.close()  # as at exit: the count still held is written
    assert c.lines() == [
        f"ERROR {c.name}: unhandled error in socket event",
        summary(c, "ERROR", "unhandled error in socket event [ZeroDivisionError]", 1999, 0),
    ]


class Watched(io.StringIO):
    """A stream that says when a summary line has been written to it."""

    def __init__(self) -> None:
        super().__init__()
        self.summary = threading.Event()

    def write(self, text: str) -> int:
        if "repeated" in text:
            self.summary.set()
        return super().write(text)


def test_the_count_is_written_when_the_interval_ends_without_another_record():
    stream = Watched()
    handler = logs.Handler(0.2, stream=stream, background=True)
    log = logging.getLogger(f"tests.logs.{uuid.uuid4().hex[:8]}")
    log.addHandler(handler)
    log.propagate = False
    try:
        for _ in range(3):
            log.error("database down")
        assert stream.summary.wait(timeout=10), stream.getvalue()
        assert "database down (repeated 2 times in the last 0.2 s)" in stream.getvalue()
    finally:
        log.removeHandler(handler)
        handler.close()  # and its thread ends


def test_init_app_installs_one_handler_on_a_bare_root_and_updates_it(app, monkeypatch):
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])  # as in ``python wsgi.py``; pytest's come back
    monkeypatch.setattr(root, "level", root.level)
    app.config.update(LOG_LEVEL="ERROR", LOG_REPEAT_SECONDS=3)
    logs.init_app(app)
    app.config.update(LOG_REPEAT_SECONDS=0)
    logs.init_app(app)  # a second app in the process: the same handler, new settings
    installed = root.handlers[:]
    installed[0].close()  # ends its background thread; pytest's handlers come back after this
    assert [type(h) for h in installed] == [logs.Handler]
    assert installed[0].repeats.seconds == 0 and root.level == logging.ERROR


def test_init_app_leaves_a_root_configured_elsewhere_alone(app):
    # pytest's own handlers are on the root here, as an embedding program's would be
    assert not any(isinstance(h, logs.Handler) for h in logging.getLogger().handlers)


def test_socketio_errors_go_to_the_root_only_once(app):
    for name in ("engineio.server", "socketio.server"):
        logger = logging.getLogger(name)
        assert logger.handlers == [] and logger.propagate and logger.level == logging.ERROR


EVENTLET_SCRIPT = textwrap.dedent(
    """
    import eventlet
    eventlet.monkey_patch()
    import logging
    from webapp import create_app

    create_app({"ASYNC_MODE": "eventlet", "SQLALCHEMY_DATABASE_URI": "sqlite://",
                "LOG_LEVEL": "INFO", "LOG_REPEAT_SECONDS": 60})

    def crash(i):
        raise ZeroDivisionError(f"greenlet {i}")

    for i in range(5):
        eventlet.spawn_n(crash, i)
    eventlet.sleep(0.1)  # let them run
    logging.getLogger("engineio.server").error("message handler error")
    """
)


def test_a_server_process_logs_greenlet_crashes_and_counts_them_at_exit():
    """eventlet's hub prints a dead greenlet's traceback to stderr; here it is a log record."""
    result = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", EVENTLET_SCRIPT], cwd=ROOT, capture_output=True,
        text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    err = result.stderr
    written = records(err)
    assert written[:2] == [
        "ERROR eventlet.hubs: unhandled error in a greenlet",
        "ERROR engineio.server: message handler error",  # once: no bare copy of its own
    ], err
    # written at exit (logging.shutdown closes the handler), long before the interval's end
    assert re.fullmatch(r"ERROR eventlet.hubs: unhandled error in a greenlet \[ZeroDivisionError\]"
                        r" \(repeated 4 times in the last [\d.]+ s\)", written[2]), err
    assert len(written) == 3, err
    assert err.count("Traceback") == 1 and "greenlet 0" in err

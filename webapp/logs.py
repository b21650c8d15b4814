"""The app's logging: one handler on the root logger, where repeats of a record are collapsed.

In a 5 s database outage every chat event fails the same way, and each failure logged its whole
traceback (~10 KB): 18 MB of log for one outage (tests/e2e/test_log_floods.py). Here the first
record of a kind within ``LOG_REPEAT_SECONDS`` is logged in full, traceback included; the others
are only counted, and when the interval is over one line says how many there were::

    ... ERROR webapp.errors: unhandled error in socket event [OperationalError] (repeated 1968
    times in the last 10 s)

A kind is a logger, a level, a message template (``record.msg``, before its arguments are put
in) and the exception's type. Every library logs through the root (werkzeug, engineio,
socketio, SQLAlchemy, redis), so all of it is covered; so are the tracebacks eventlet's hub
prints to stderr by itself (``route_hub_exceptions``) and its WebSocket's ``wsgi.errors``
writes (webapp/server/serving.py logs those).
"""
from __future__ import annotations

import logging
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from flask import Flask

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Kinds tracked at once; past it the oldest interval ends early (its count is reported then).
# A server has a few dozen kinds of record; a thousand bounds the memory, not normal use.
MAX_KINDS = 1000
SUMMARY_TEXT = 200  # characters of the message repeated in the summary line
SUMMARY = "parley_repeat_summary"  # attribute marking a summary record (never collapsed itself)
# python-engineio and python-socketio give these loggers a bare stderr handler of their own
# when they find no level set (Flask-SocketIO's logger=False): their errors were printed twice,
# once unformatted and never collapsed.
_LIBRARY_LOGGERS = ("engineio.server", "socketio.server")


def init_app(app: Flask) -> None:
    """Log to stderr at ``LOG_LEVEL``, collapsing repeats over ``LOG_REPEAT_SECONDS`` (0: off).

    Like ``logging.basicConfig``, leaves a root logger that someone else configured (pytest, a
    program embedding the app) alone; a second app in the same process updates the settings.
    """
    _quiet_library_handlers()
    if _green():
        route_hub_exceptions()
    root = logging.getLogger()
    handler = next((h for h in root.handlers if isinstance(h, Handler)), None)
    if handler is None:
        if root.handlers:
            return
        handler = Handler(app.config["LOG_REPEAT_SECONDS"], background=True)
        root.addHandler(handler)
    handler.repeats.seconds = float(app.config["LOG_REPEAT_SECONDS"])
    root.setLevel(app.config["LOG_LEVEL"])


class Handler(logging.StreamHandler):
    """stderr (or ``stream``) in ``FORMAT``, repeats collapsed by its ``RepeatFilter``.

    Closing it writes the counts it still holds: ``logging.shutdown`` closes it at exit, and the
    SIGTERM path calls that before ``os._exit`` (webapp/chat/cluster.py).
    """

    def __init__(self, seconds: float, stream=None, **repeat_options) -> None:
        super().__init__(stream)
        self.setFormatter(logging.Formatter(FORMAT))
        self.repeats = RepeatFilter(seconds, **repeat_options)
        self.repeats.attach(self)

    def close(self) -> None:
        self.repeats.stop()
        super().close()


class _Window:
    """One kind's current interval: when it began, how many repeats it has had since."""

    __slots__ = ("count", "func", "key", "levelno", "lineno", "name", "pathname", "start", "text")

    def __init__(self, key: tuple, start: float, record: logging.LogRecord) -> None:
        self.key, self.start, self.count, self.text = key, start, 0, ""
        self.name, self.levelno = record.name, record.levelno
        self.pathname, self.lineno, self.func = record.pathname, record.lineno, record.funcName


class RepeatFilter(logging.Filter):
    """A handler's filter that lets the first record of a kind through per interval, counts the
    rest, and hands the handler one summary line per kind when its interval has ended.

    Intervals end on the next record of any kind, or in one background thread (a greenlet
    under eventlet) that wakes when the oldest one is due. Cheap per record: a key, a dict
    lookup and a clock read under a lock held for nothing else -- no I/O, no formatting, no
    greenlet switch (records are logged from eventlet's hub too, which must never wait).
    Summaries go out after the lock is released, ahead of the record that ended them.
    """

    def __init__(
        self, seconds: float, max_kinds: int = MAX_KINDS, *,
        clock: Callable[[], float] = time.monotonic, background: bool = False,
    ) -> None:
        super().__init__()
        self.seconds = float(seconds)
        self.max_kinds = max_kinds
        self._clock = clock
        self._lock = _native_lock()
        # Oldest interval first (OrderedDict: the front is found in O(1) after many pops).
        self._windows: OrderedDict[tuple, _Window] = OrderedDict()
        self._emit: Callable[[logging.LogRecord], object] = lambda record: None
        self._stopped = threading.Event()
        if background:
            threading.Thread(target=self._flush_loop, name="log-repeats", daemon=True).start()

    @property
    def tracked(self) -> int:
        """How many kinds have an interval running (at most ``max_kinds``)."""
        return len(self._windows)

    def attach(self, handler: logging.Handler) -> None:
        """Filter ``handler``'s records, and write the summary lines through it."""
        self._emit = handler.handle
        handler.addFilter(self)

    def filter(self, record: logging.LogRecord) -> bool:
        if self.seconds <= 0 or getattr(record, SUMMARY, False):
            return True
        key = _kind(record)
        now = self._clock()
        first_repeat = None
        with self._lock:
            ended = self._end_windows(now, everything=False)
            window = self._windows.get(key)
            passed = window is None
            if passed:
                if len(self._windows) >= self.max_kinds:  # the oldest ends early, its count kept
                    ended.append(self._windows.popitem(last=False)[1])
                self._windows[key] = _Window(key, now, record)
            else:
                window.count += 1
                first_repeat = window if window.count == 1 else None
        if first_repeat is not None:  # str() of the arguments may run anything: not locked
            first_repeat.text = _text(record, key)
        self._write(ended, now)
        return passed

    def flush(self, everything: bool = False) -> None:
        """Write the summaries of intervals that have ended (of all of them: ``everything``)."""
        now = self._clock()
        with self._lock:
            ended = self._end_windows(now, everything)
        self._write(ended, now)

    def stop(self) -> None:
        """End the background thread; write every count still held."""
        self._stopped.set()
        self.flush(everything=True)

    def _end_windows(self, now: float, everything: bool) -> list[_Window]:
        ended = []
        while self._windows:
            window = next(iter(self._windows.values()))
            if not everything and now - window.start < self.seconds:
                break
            ended.append(self._windows.popitem(last=False)[1])
        return ended

    def _write(self, ended: list[_Window], now: float) -> None:
        for window in ended:
            if window.count:
                self._emit(self._summary(window, now))

    @staticmethod
    def _summary(window: _Window, now: float) -> logging.LogRecord:
        times = "once" if window.count == 1 else f"{window.count} times"
        record = logging.LogRecord(
            window.name, window.levelno, window.pathname, window.lineno,
            "%s (repeated %s in the last %s s)",
            (window.text or str(window.key[2]), times, f"{round(now - window.start, 1):g}"),
            None, func=window.func,
        )
        setattr(record, SUMMARY, True)
        return record

    def _flush_loop(self) -> None:
        """Wake when the oldest interval ends; idle, after ``seconds`` at the latest (an
        interval begun meanwhile ends no sooner)."""
        while True:
            with self._lock:
                oldest = next(iter(self._windows.values()), None)
            seconds = self.seconds or 1.0
            wait = oldest.start + seconds - self._clock() if oldest else seconds
            if self._stopped.wait(max(wait, 0.05)):
                return
            self.flush()


def _native_lock():
    """A lock that never switches greenlets: eventlet's would, and the hub itself may log.
    Held only for a few dict operations, so a greenlet never waits on it for long."""
    if _green():
        return sys.modules["eventlet.patcher"].original("threading").Lock()
    return threading.Lock()


def _kind(record: logging.LogRecord) -> tuple:
    msg = record.msg if isinstance(record.msg, str) else type(record.msg)
    exc_type = record.exc_info[0] if record.exc_info else None
    return record.name, record.levelno, msg, exc_type


def _text(record: logging.LogRecord, key: tuple) -> str:
    """The summary's words: a repeat's message, its first line cut short, and the exception's
    type; one line, so that the count is easy to find."""
    try:
        text = record.getMessage()
    except Exception:  # noqa: BLE001 - arguments that do not fit; the handler reports those
        text = str(record.msg)
    line = text.split("\n", 1)[0].rstrip()[:SUMMARY_TEXT]
    text = line if line == text else line + " ..."
    exc_type = key[3]
    return f"{text} [{exc_type.__name__}]" if exc_type is not None else text


def _quiet_library_handlers() -> None:
    for name in _LIBRARY_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.ERROR)  # what logger=False asks of them; no handler added
        for handler in list(logger.handlers):
            if type(handler) is logging.StreamHandler and handler.formatter is None:
                logger.removeHandler(handler)  # the bare one they added: records reach the root


# -- what eventlet writes to stderr by itself --------------------------------------------------
def _green() -> bool:
    """Whether this process runs on eventlet's hub (without importing eventlet if it does not)."""
    patcher = sys.modules.get("eventlet.patcher")
    return patcher is not None and patcher.is_monkey_patched("thread")


def route_hub_exceptions(hub=None) -> None:
    """Have eventlet's hub (this thread's, by default) log the errors of greenlets that die.

    The hub prints their tracebacks to stderr (``traceback.print_exception``), beside logging:
    unformatted, never collapsed. Same decisions as eventlet's (``debug_exceptions``, and a
    greenlet that died while waiting on a descriptor takes the descriptor's listeners along).
    """
    from eventlet import hubs

    hub = hub or hubs.get_hub()
    if getattr(hub, "_parley_logs", False):
        return
    log = logging.getLogger("eventlet.hubs")

    def generic(exc_info) -> None:
        if hub.debug_exceptions:
            log.error("unhandled error in a greenlet", exc_info=exc_info)

    def on_descriptor(fileno, exc_info) -> None:
        log.error("unhandled error in a greenlet; dropping descriptor %s", fileno,
                  exc_info=exc_info)
        try:
            hub.remove_descriptor(fileno)
        except Exception:  # as eventlet does: report it, go on
            log.exception("dropping descriptor %s failed", fileno)

    hub.squelch_generic_exception = generic
    hub.squelch_timer_exception = lambda _timer, exc_info: generic(exc_info)
    hub.squelch_exception = on_descriptor
    hub._parley_logs = True

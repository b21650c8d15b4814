"""Run CPU-heavy calls (password hashing) off the event loop, a bounded number at a time.

Under eventlet (``python wsgi.py`` monkey-patches) one OS thread, the hub, runs every connection:
a 100-150 ms scrypt hash there holds up every client's acks, and a storm of logins held them for
seconds. ``run_blocking`` hands the call to eventlet's pool of native threads (``tpool``) and parks
only the calling greenlet; hashlib's scrypt lets go of the GIL, so the hub carries on.

At most ``OFFLOAD_THREADS`` calls run at once per process: the others wait their turn as parked
greenlets (no thread each), so a flood of logins queues instead of taking every core and 32 MiB
of scrypt memory per hash. Without eventlet (``ASYNC_MODE=threading``, tests, scripts) each
request has a thread of its own and the call runs right there.

Eventlet-specific, like ``webapp/server/serving.py``: the rest of the code calls ``run_blocking`` and
never imports eventlet.
"""
from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TypeVar

from flask import current_app

T = TypeVar("T")


def _green() -> bool:
    """Whether this process runs on eventlet's hub (without importing eventlet if it does not)."""
    patcher = sys.modules.get("eventlet.patcher")
    return patcher is not None and patcher.is_monkey_patched("thread")


def _slots():
    """The app's semaphore bounding concurrent offloaded calls, made on first use."""
    from eventlet.semaphore import Semaphore

    extensions = current_app.extensions
    if "parley.offload" not in extensions:
        extensions["parley.offload"] = Semaphore(max(1, int(current_app.config["OFFLOAD_THREADS"])))
    return extensions["parley.offload"]


def run_blocking(fn: Callable[..., T], *args) -> T:
    """``fn(*args)`` in a native thread while only the calling greenlet waits (needs an app
    context); called directly when the process is not on eventlet."""
    if not _green():
        return fn(*args)
    from eventlet import tpool

    with _slots():
        return tpool.execute(fn, *args)

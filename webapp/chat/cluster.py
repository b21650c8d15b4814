"""What a server process does as one of several: keep its heartbeat, reap dead processes' users.

Only a serving process runs these (``wsgi.py``), never the CLI or the tests' in-process apps.
"""
from __future__ import annotations

import signal
import sys
from contextlib import contextmanager

from flask import Flask

from webapp.chat import service
from webapp.extensions import presence, socketio


@contextmanager
def duties(app: Flask):
    """Run the presence heartbeat while the block serves; on SIGTERM leave the cluster cleanly."""
    # Three beats per TTL: one late beat (a busy process, a Redis blip) does not drop anybody.
    presence.start(socketio, _announce_leave, interval=app.config["PRESENCE_TTL"] / 3)
    # SIGTERM (systemd, a platform's shutdown) unwinds like Ctrl-C instead of killing outright,
    # so the finally below tells the others at once instead of after the TTL.
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
        presence.stop()


def _announce_leave(room: str, user: str) -> None:
    """Tell a room that ``user`` left with the process that served them (it cannot say so)."""
    member = service.Member(sid="", name=user)
    socketio.emit("presence", service.presence_event(room, member, "leave"), to=room)

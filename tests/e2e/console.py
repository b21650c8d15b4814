"""What an operator sees: ``python wsgi.py`` and ``flask --app wsgi ...`` as subprocesses, their
output read line by line as it comes (stderr and stdout together, as on a terminal)."""
from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.support import ROOT

# A record as webapp/logs.py formats it: "2026-01-31 12:00:00,123 INFO webapp.server.serving: ..."
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL) "
                      r"[\w.]+: ")
LISTENING = re.compile(r"listening on (http://127\.0\.0\.1:(\d+))$")
# What the console must never show in normal operation.
NOISE = ("Traceback", "Eventlet is deprecated", "monkey_patching", "socket shutdown error",
         "Working outside of application context")


def environment(workdir: Path, **env: str) -> dict:
    """The environment of a fresh deployment on ``workdir``'s SQLite file, on a port the system
    chooses (the console says which); settings a developer's shell may hold are dropped."""
    base = {k: v for k, v in os.environ.items()
            if k not in ("ACCESS_LOG", "REUSE_PORT", "REDIS_URL", "ALLOWED_ORIGINS")}
    return {
        **base,
        "HOST": "127.0.0.1",
        "PORT": "0",
        "DATABASE_URL": f"sqlite:///{workdir / 'console.sqlite3'}",
        "SECRET_KEY": "console-test-secret",
        "ASYNC_MODE": "eventlet",
        "LOG_LEVEL": "INFO",
        **env,
    }


def flask(env: dict, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """``flask --app wsgi ARGS``, output captured (stderr into stdout, as a terminal shows it)."""
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args], check=False, cwd=ROOT, env=env,
        text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout,
    )


class Server:
    """``python wsgi.py`` with its console read as it is written."""

    def __init__(self, env: dict) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "wsgi.py"], cwd=ROOT, env=env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )
        self.lines: list[str] = []
        self._fresh: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self._fresh.put(line.rstrip("\n"))
        self._fresh.put(None)  # end of output: the process has exited or closed it

    def wait_for(self, pattern: str | re.Pattern, timeout: float = 30.0) -> re.Match:
        """The first new line matching ``pattern``; fails on a timeout or the end of output."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._fresh.get(timeout=max(deadline - time.monotonic(), 0))
            except queue.Empty:
                raise AssertionError(f"no {pattern!r} within {timeout}s:\n{self.text}") from None
            if line is None:
                self._fresh.put(None)
                raise AssertionError(f"output ended without {pattern!r}:\n{self.text}")
            self.lines.append(line)
            match = re.search(pattern, line)
            if match:
                return match

    def listening(self, timeout: float = 30.0) -> str:
        """The URL from the "listening on" line."""
        return self.wait_for(LISTENING, timeout).group(1)

    def exit(self, timeout: float = 15.0) -> int:
        """Wait for the process to end and for all its output; answer its exit code."""
        code = self.proc.wait(timeout=timeout)
        while (line := self._fresh.get(timeout=timeout)) is not None:
            self.lines.append(line)
        self._fresh.put(None)
        return code

    def stop(self, signal_number: int) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal_number)
        try:
            return self.exit()
        finally:
            self.kill()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

"""Start the servers under test pinned to their core, and read their CPU and memory from /proc."""
from __future__ import annotations

import os
import resource
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
SERVER_CORE = 0
GENERATOR_CORE = 1
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pin_generator() -> None:
    """Keep this process (the load generator) off the server's core."""
    if hasattr(os, "sched_setaffinity") and os.cpu_count() and os.cpu_count() > 1:
        os.sched_setaffinity(0, {GENERATOR_CORE})
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _server_preexec() -> None:
    # 10,000 idle connections need more descriptors than the usual 1,024 soft limit.
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from /proc/<pid>/stat (fields 14 and 15)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def core_busy_seconds(core: int) -> float:
    """Seconds core ``core`` spent busy (anything but idle and iowait), from /proc/stat."""
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith(f"cpu{core} "):
                ticks = [int(x) for x in line.split()[1:]]
                return (sum(ticks[:8]) - ticks[3] - ticks[4]) / CLK_TCK
    return 0.0


def core_softirq_seconds(core: int) -> float:
    """Seconds core ``core`` spent in software interrupts, from /proc/stat.

    On loopback, the kernel's receive path for a frame the server sends (TCP input, waking the
    receiving client) runs on the sender's core as softirq, and the kernel charges that to no
    process: it is in neither the server's nor the generator's CPU time.
    """
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith(f"cpu{core} "):
                return int(line.split()[7]) / CLK_TCK
    return 0.0


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * PAGE_KIB


# Every generated client shares 127.0.0.1 and sends far faster than a person: the bench measures
# capacity, so Parley's per-user and per-address limits are lifted (their checks still run).
UNLIMITED = {
    **{f"RATE_LIMIT_{action}": "1000000 per 1 second"
       for action in ("MESSAGE", "TYPING", "JOIN", "LOGIN", "FLOOD", "HISTORY", "CREATE_ROOM")},
    "MAX_CONNECTIONS_PER_ADDRESS": "0",  # the load generator is one address with thousands
}


@dataclass
class ServerSpec:
    """How to run one server under test."""

    name: str
    argv: list[str]
    health_path: str
    migrate: bool = False  # run ``flask db upgrade`` first (Parley)
    env: dict = field(default_factory=dict)
    database: str = "sqlite"

    def available(self) -> tuple[bool, str]:
        return True, ""


def parley(database_url: str | None = None) -> ServerSpec:
    spec = ServerSpec(
        name="parley" if database_url is None else "parley-pg",
        argv=[PYTHON, "wsgi.py"],
        health_path="/api/healthz",
        migrate=True,
        env={"LOG_LEVEL": "WARNING", "ASYNC_MODE": "eventlet", "SECRET_KEY": "bench",
             **UNLIMITED},
        database="sqlite" if database_url is None else "postgresql",
    )
    if database_url:
        spec.env["DATABASE_URL"] = database_url
    return spec


def naive() -> ServerSpec:
    return ServerSpec(name="naive", argv=[PYTHON, str(ROOT / "bench" / "naive_app.py")],
                      health_path="/healthz")


NODE_DIR = ROOT / "bench" / "node"


@dataclass
class NodeSpec(ServerSpec):
    """Node's socket.io (bench/node/server.js), installed from its lock file on first use."""

    def available(self) -> tuple[bool, str]:
        node, npm = shutil.which("node"), shutil.which("npm")
        if not node or not npm:
            return False, "node and npm are not installed"
        if not (NODE_DIR / "node_modules" / "socket.io").is_dir():
            done = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], check=False, cwd=NODE_DIR,
                                  capture_output=True, text=True, timeout=300)
            if done.returncode != 0:
                return False, f"npm ci failed: {done.stderr.strip()[-200:]}"
        return True, ""


def node() -> ServerSpec:
    return NodeSpec(name="node", argv=["node", str(NODE_DIR / "server.js")],
                    health_path="/healthz")


def export_revision(rev: str, into: Path) -> Path:
    """A clean copy of the committed tree at ``rev``: benchmark a commit, not a half-edited tree."""
    into.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "archive", rev], cwd=ROOT, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def postgres_driver_missing() -> str | None:
    """Why Parley cannot run on PostgreSQL here, or None if a driver imports."""
    probe = ("import importlib.util as u, sys; "
             "sys.exit(0 if (u.find_spec('psycopg') or u.find_spec('psycopg2')) else 1)")
    if subprocess.run([PYTHON, "-c", probe], check=False).returncode:
        return "no PostgreSQL driver (psycopg / psycopg2) is installed in the server's environment"
    return None


class Server:
    """One running server process, pinned to ``core`` (None: any), on a fresh port and database."""

    def __init__(self, spec: ServerSpec, workdir: Path, source: Path = ROOT,
                 core: int | None = SERVER_CORE) -> None:
        self.spec = spec
        self.core = core
        self.source = Path(source)  # the tree whose wsgi.py and webapp/ are served
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.host = "127.0.0.1"
        self.proc: subprocess.Popen | None = None
        self.env = {
            **os.environ,
            "HOST": self.host,
            "PORT": str(self.port),
            "DATABASE_URL": f"sqlite:///{self.workdir / (spec.name + '.sqlite3')}",
            "PYTHONUNBUFFERED": "1",
            **spec.env,
        }

    @property
    def pid(self) -> int:
        return self.proc.pid

    def start(self, timeout: float = 30.0) -> Server:
        if self.spec.migrate:
            subprocess.run(
                [PYTHON, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=self.source,
                env=self.env, check=True, capture_output=True, timeout=120,
            )
        pinned = self.core is not None and shutil.which("taskset")
        pin = ["taskset", "-c", str(self.core)] if pinned else []
        self.log_path = self.workdir / f"{self.spec.name}.log"
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child keeps it; closed below
        # exec through taskset keeps the pid: /proc/<pid> is the server itself.
        self.proc = subprocess.Popen(
            pin + self.spec.argv, cwd=self.source, env=self.env, stdout=log, stderr=log,
            preexec_fn=_server_preexec,  # noqa: PLW1509 - the bench starts no threads before
        )
        log.close()
        deadline = time.monotonic() + timeout
        url = f"http://{self.host}:{self.port}{self.spec.health_path}"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                code = self.proc.returncode
                raise RuntimeError(f"{self.spec.name} exited ({code}): {self.log_tail()}")
            try:
                with urllib.request.urlopen(url, timeout=1) as resp:
                    if resp.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.spec.name} did not answer in {timeout}s: {self.log_tail()}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def cpu(self) -> float:
        return cpu_seconds(self.pid)

    def rss_kib(self) -> int:
        return rss_kib(self.pid)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

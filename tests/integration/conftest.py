"""Scale-out fixtures: several real servers sharing PostgreSQL and Redis, behind a real nginx.

The services are the machine's own (PostgreSQL on 127.0.0.1:5432, Redis on 127.0.0.1:6379, nginx
from Debian's packages). Locally a missing one skips these tests; with CI=true it fails them.
"""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2
import pytest
import redis
import requests

from tests.support import ROOT, LiveServer, free_port
from webapp import create_app
from webapp.extensions import db

PG_ADMIN_URL = os.environ.get("PARLEY_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("PARLEY_TEST_REDIS", "redis://127.0.0.1:6379/0")
# Short, so the crash test sees a dead process's users go within seconds (production: 15 s).
PRESENCE_TTL = "3"

def require(ok: bool, reason: str) -> None:
    """Skip locally when a service is missing; in CI these tests must run, so fail instead."""
    if not ok:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)


def _reachable(check) -> bool:
    try:
        check()
    except Exception:  # noqa: BLE001 - any failure means "not there"
        return False
    return True


@pytest.fixture(scope="session")
def postgres_url():
    """A fresh database of its own on the shared PostgreSQL, dropped afterwards."""
    require(_reachable(lambda: psycopg2.connect(PG_ADMIN_URL, connect_timeout=3).close()),
            f"PostgreSQL is not reachable at {PG_ADMIN_URL}")
    name = f"parley_test_{uuid.uuid4().hex[:10]}"
    admin_sql(f"CREATE DATABASE {name}")
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    admin_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def admin_sql(sql: str) -> None:
    conn = psycopg2.connect(PG_ADMIN_URL)
    conn.autocommit = True  # CREATE/DROP DATABASE cannot run in a transaction
    try:
        conn.cursor().execute(sql)
    finally:
        conn.close()


@pytest.fixture(scope="session")
def redis_url():
    require(_reachable(lambda: redis.Redis.from_url(REDIS_URL, socket_timeout=3).ping()),
            f"Redis is not reachable at {REDIS_URL}")
    return REDIS_URL


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )


class Nginx:
    """nginx running deploy/nginx.conf, with its upstream servers and listen port replaced."""

    def __init__(self, workdir: Path, upstreams: list[int]) -> None:
        binary = nginx_binary()
        require(binary is not None, "nginx is not installed (apt-get install nginx)")
        self.binary, self.workdir = binary, Path(workdir)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        site = (ROOT / "deploy" / "nginx.conf").read_text()
        servers = "\n".join(
            f"    server 127.0.0.1:{port} max_fails=1 fail_timeout=10s;" for port in upstreams
        )
        site, count = re.subn(r"(?m)^\s*server 127\.0\.0\.1:\d+[^;]*;\n?", "", site)
        assert count, "deploy/nginx.conf lists no 127.0.0.1 upstream servers"
        site = site.replace("keepalive 32;", f"keepalive 32;\n{servers}", 1)
        site = re.sub(r"listen 80;", f"listen 127.0.0.1:{self.port};", site)
        tmp = self.workdir
        temp_paths = "\n".join(
            f"    {kind}_temp_path {tmp / kind};" for kind in
            ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        (tmp / "nginx.conf").write_text(
            ("user root root;\n" if os.geteuid() == 0 else "")
            + f"worker_processes 1;\nerror_log {tmp / 'error.log'} info;\npid {tmp / 'nginx.pid'};\n"
            "events { worker_connections 1024; }\n"
            f"http {{\n    access_log {tmp / 'access.log'};\n{temp_paths}\n{site}\n}}\n"
        )
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        conf = self.workdir / "nginx.conf"
        check = subprocess.run([self.binary, "-t", "-p", str(self.workdir), "-e",
                                str(self.workdir / "error.log"), "-c", str(conf)],
                               capture_output=True, text=True, check=False)
        assert check.returncode == 0, check.stderr
        self.proc = subprocess.Popen(
            [self.binary, "-p", str(self.workdir), "-e", str(self.workdir / "error.log"),
             "-c", str(conf), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError((self.workdir / "error.log").read_text())

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


@dataclass
class Cluster:
    """Server processes sharing one database and one Redis, behind one nginx."""

    servers: list[LiveServer]
    nginx: Nginx | None = None
    cookies: dict[int, str] = field(default_factory=dict)  # server index -> sticky cookie

    @property
    def url(self) -> str:
        return self.nginx.url

    def server_of(self, cookie: str | None = None) -> int:
        """Which server nginx sends this sticky cookie (or a cookie-less request) to."""
        headers = {"Cookie": f"parley_node={cookie}"} if cookie else {}
        pid = requests.get(self.url + "/healthz", headers=headers, timeout=5).json()["pid"]
        return next(i for i, s in enumerate(self.servers) if s.proc and s.proc.pid == pid)

    def cookie_for(self, index: int) -> dict:
        """Request headers that make nginx route to server ``index``."""
        if index not in self.cookies:
            for _ in range(200):
                cookie = uuid.uuid4().hex
                self.cookies.setdefault(self.server_of(cookie), cookie)
                if index in self.cookies:
                    break
        return {"Cookie": f"parley_node={self.cookies[index]}"}

    def stop(self) -> None:
        if self.nginx:
            self.nginx.stop()
        for server in self.servers:
            server.stop()


def start_cluster(workdir: Path, count: int, with_nginx: bool = True, **env: str) -> Cluster:
    servers = []
    for i in range(count):
        path = Path(workdir) / f"server{i}"
        path.mkdir()
        servers.append(LiveServer(path, PRESENCE_TTL=PRESENCE_TTL, **env))
    cluster = Cluster(servers)
    try:
        for server in servers:  # one at a time: the first one migrates the shared database
            server.start()
        if with_nginx:
            cluster.nginx = Nginx(Path(workdir), [s.port for s in servers])
            cluster.nginx.start()
    except BaseException:
        cluster.stop()
        raise
    return cluster


@pytest.fixture(scope="session")
def cluster(tmp_path_factory, postgres_url, redis_url):
    """Three servers behind nginx, shared by the tests that use their own rooms and names."""
    cluster = start_cluster(tmp_path_factory.mktemp("cluster"), 3,
                            DATABASE_URL=postgres_url, REDIS_URL=redis_url)
    yield cluster
    cluster.stop()


def flask_command(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT, env={**os.environ, "LOG_LEVEL": "WARNING", **env},
        capture_output=True, text=True, timeout=60, check=False,
    )


# -- one database of each kind (modules that use these get both: sqlite and postgresql) --------
DATABASES = [
    pytest.param("sqlite"),
    pytest.param("postgresql", marks=pytest.mark.integration),
]


@pytest.fixture(params=DATABASES)
def database_url(request, tmp_path):
    """An empty database: a SQLite file, or a PostgreSQL database dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.sqlite3'}"
        return
    name = f"parley_db_{uuid.uuid4().hex[:10]}"
    try:
        admin_sql(f"CREATE DATABASE {name}")
    except psycopg2.OperationalError as exc:
        require(False, f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc}")
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    admin_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def db_app(database_url, tmp_path):
    """An app (threading mode) on ``database_url``, not yet migrated, its context pushed."""
    app = create_app({
        "FILE_DIR": str(tmp_path / "files"),
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "ASYNC_MODE": "threading",
        "LOG_LEVEL": "WARNING",
    })
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()

"""The console of ``make run`` (``flask --app wsgi db upgrade``, then ``python wsgi.py``): the
version, the database, where it listens, then only meaningful lines; no traceback, no library
banner; a request log when asked for."""
import signal
from importlib import metadata

import pytest
import requests
import websocket

from tests.e2e.console import LOG_LINE, NOISE, Server, environment, flask
from tests.support import ChatClient, eventually, unique

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    """The environment of a deployment whose database ``make run`` has just migrated."""
    env = environment(tmp_path_factory.mktemp("console"))
    result = flask(env, "db", "upgrade")
    assert result.returncode == 0, result.stdout
    assert not [noise for noise in NOISE if noise in result.stdout], result.stdout
    return env


@pytest.fixture
def start(migrated):
    servers = []

    def _start(**env) -> Server:
        server = Server({**migrated, **env})
        servers.append(server)
        return server

    yield _start
    for server in servers:
        server.kill()


def some_traffic(url: str) -> None:
    """A page, Socket.IO over WebSocket and over long-polling, and a plain WebSocket client,
    each joining, talking and leaving, as a first session would."""
    requests.get(url + "/", timeout=5).raise_for_status()
    room = unique("console")
    for transports in (["websocket"], ["polling"], None):
        client = ChatClient(url, unique("c"), transports).connect()
        assert client.call("join", {"room": room})["ok"]
        assert client.call("message", {"room": room, "text": "hello"})["ok"]
        client.close()
    ws = websocket.create_connection(url.replace("http://", "ws://") + f"/ws?name={unique('w')}",
                                     timeout=5)
    ws.recv()  # welcome
    ws.close()
    # Let the server see the closes before it is stopped (its connection gauges back at zero),
    # so what it logs for them is in the output checked below. Bounded, not asserted: a
    # python-socketio client's close over long-polling can go unseen until the session's ping
    # timeout (~45 s) on a busy machine, and that is not this test's subject.
    eventually(lambda: _open_connections(url) == 0, 10)


def _open_connections(url: str) -> float:
    text = requests.get(url + "/metrics", timeout=5).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("parley_connections{"))


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_the_console_says_what_runs_where_then_nothing_but_meaningful_lines(start, migrated, stop):
    server = start()
    url = server.listening()
    head = server.text
    assert f"Parley {metadata.version('parley')} (Python " in head
    assert f"database: {migrated['DATABASE_URL']}" in head
    assert requests.get(url + "/healthz", timeout=5).json()["ok"]

    some_traffic(url)
    code = server.stop(stop)

    assert code == 0, server.text
    assert not [noise for noise in NOISE if noise in server.text], server.text
    for line in server.lines:  # every line a formatted record: nothing glued, nothing raw
        assert LOG_LINE.match(line), f"not a log record: {line!r}\n{server.text}"
        assert " INFO " in line, f"a warning or an error in normal operation: {line!r}"
    assert "webapp.server.serving.access" not in server.text  # no request log unless asked for


@pytest.mark.parametrize("setting", [{"ACCESS_LOG": "1"}, {"LOG_LEVEL": "DEBUG"}],
                         ids=["ACCESS_LOG", "LOG_LEVEL=DEBUG"])
def test_a_request_log_when_asked_for(start, setting):
    server = start(**setting)
    url = server.listening()
    requests.get(url + "/healthz", timeout=5)
    server.wait_for(r'INFO webapp\.server\.serving\.access: 127\.0\.0\.1 "GET /healthz HTTP/1\.1" 200 ')
    some_traffic(url)
    server.wait_for(r'"GET /ws\?name=')
    assert server.stop(signal.SIGTERM) == 0
    shown = "\n".join(line for line in server.lines if " DEBUG " not in line)
    assert not [noise for noise in NOISE if noise in shown], server.text


def test_the_database_url_is_shown_without_its_password():
    from webapp.server.serving import _without_password

    shown = _without_password("postgresql://parley:s3cret@db.internal:5432/parley")
    assert shown == "postgresql://parley:***@db.internal:5432/parley"
    assert _without_password("redis://:s3cret@cache:6379/0?ssl_cert_reqs=none") == (
        "redis://:***@cache:6379/0?ssl_cert_reqs=none")


def test_flask_commands_print_no_traceback_and_no_banner(migrated):
    for command in (
        ["--help"],
        ["db", "upgrade"],
        ["users", "create", "console-admin", "--admin", "--password", "correct horse battery"],
        ["tokens", "create", "console-admin", "console-bot"],
        ["chat", "post", "general", "Backup finished.", "--author", "cron"],
    ):
        result = flask(migrated, *command)
        assert result.returncode == 0, f"{command}: {result.stdout}"
        assert not [noise for noise in NOISE if noise in result.stdout], result.stdout

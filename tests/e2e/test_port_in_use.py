"""A second server on a port already in use refuses with one line and exit code 1, instead of
sharing the port (SO_REUSEPORT) and splitting clients between two processes with separate state;
REUSE_PORT=1 shares it on purpose."""
import signal
import socket

import pytest
import requests

from tests.e2e.console import Server, environment, flask

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    env = environment(tmp_path_factory.mktemp("port"))
    assert flask(env, "db", "upgrade").returncode == 0
    return env


@pytest.fixture
def servers():
    started: list[Server] = []
    yield started
    for server in started:
        server.kill()


def start(servers: list, env: dict, **settings) -> Server:
    server = Server({**env, **settings})
    servers.append(server)
    return server


def refused(server: Server, port: int) -> str:
    """The one line a refused start prints, once it has exited with code 1."""
    assert server.exit(timeout=60) == 1, server.text
    lines = [line for line in server.lines if line.strip()]
    assert len(lines) == 1, server.text
    assert f"127.0.0.1:{port} is already in use" in lines[0] and "PORT" in lines[0]
    assert "Traceback" not in server.text
    return lines[0]


def test_a_second_server_on_the_same_port_refuses_and_the_first_carries_on(env, servers):
    first = start(servers, env)
    url = first.listening()
    port = int(url.rsplit(":", 1)[1])

    second = start(servers, env, PORT=str(port))
    assert "REUSE_PORT=1" in refused(second, port)

    assert requests.get(url + "/healthz", timeout=5).json()["ok"]
    assert first.stop(signal.SIGTERM) == 0


def test_a_port_taken_by_a_program_offering_to_share_it_is_refused_too(env, servers):
    """eventlet's default (SO_REUSEPORT) on the other side: we must not set it on ours."""
    with socket.socket() as other:
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        refused(start(servers, env, PORT=str(port)), port)


def test_reuse_port_lets_processes_share_a_port_on_purpose(env, servers):
    first = start(servers, env, REUSE_PORT="1")
    port = int(first.listening().rsplit(":", 1)[1])
    second = start(servers, env, REUSE_PORT="1", PORT=str(port))
    assert second.listening() == f"http://127.0.0.1:{port}"
    assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).json()["ok"]
    for server in (first, second):
        assert server.stop(signal.SIGTERM) == 0

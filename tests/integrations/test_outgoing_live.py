"""Outgoing webhooks on the real server (``python wsgi.py``, eventlet): signed deliveries,
retries with the same delivery id, a delivery surviving the process killed right after the ack,
and two processes on one database sending each delivery once. (Loopback refused without
WEBHOOK_ALLOWED_NETWORKS: tests/api/test_integrations.py.)"""
import pytest
import requests

from tests.support import ChatClient, LiveServer, eventually, unique

pytestmark = pytest.mark.e2e

PASSWORD = "a long password here"
FAST = {"WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8", "WEBHOOK_POLL_SECONDS": "0.2",
        "WEBHOOK_RETRY_SECONDS": "0.2"}


def setup_room(server: LiveServer) -> tuple[str, str]:
    """A user owning a new room: answers (token, room)."""
    owner, room = unique("own"), unique("room")
    server.flask("users", "create", owner, "--password", PASSWORD)
    token = server.flask("tokens", "create", owner, "t")
    client = ChatClient(server.url, owner).connect(token=token)
    try:
        assert client.call("create_room", {"room": room})["ok"]
    finally:
        client.close()
    return token, room


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def add_webhook(server, token, room, url, **more) -> str:
    answer = requests.post(f"{server.url}/api/rooms/{room}/webhooks", json={"url": url, **more},
                           headers=auth(token), timeout=10)
    assert answer.status_code == 201, answer.text
    return answer.json()["secret"]


def post(server, token, room, text) -> dict:
    answer = requests.post(f"{server.url}/api/rooms/{room}/messages", json={"text": text},
                           headers=auth(token), timeout=10)
    assert answer.status_code == 201, answer.text
    return answer.json()["message"]


@pytest.fixture
def server(tmp_path):
    started = LiveServer(tmp_path, **FAST)
    started.start()
    yield started
    started.stop()


def test_signed_deliveries_retries_and_triggers(server, receiver):
    token, room = setup_room(server)
    flaky, deploys = receiver([(500, "no"), (502, "no"), (200, "ok")]), receiver()
    flaky_secret = add_webhook(server, token, room, flaky.url)
    add_webhook(server, token, room, deploys.url, trigger="deploy")
    sent = post(server, token, room, "deploy web")
    post(server, token, room, "chat")
    assert eventually(lambda: len(flaky.requests) >= 6, timeout=30), flaky.requests
    first = [r for r in flaky.requests if r["json"]["message"]["id"] == sent["id"]]
    assert len(first) == 3  # two failures, then delivered, the same delivery each time
    assert len({r["headers"]["X-Parley-Delivery"] for r in first}) == 1
    assert all(flaky.signed(r, flaky_secret) for r in flaky.requests)
    assert eventually(lambda: len(deploys.requests) == 1, timeout=10)
    assert deploys.requests[0]["json"]["message"]["text"] == "deploy web"
    listed = requests.get(f"{server.url}/api/rooms/{room}/webhooks", headers=auth(token),
                          timeout=10).json()["webhooks"]
    assert [h["last_status"] for h in listed] == ["200", "200"]
    for url in ("http://10.0.0.1/x", "http://169.254.169.254/latest/meta-data/", "http://[::1]/"):
        answer = requests.post(f"{server.url}/api/rooms/{room}/webhooks", json={"url": url},
                               headers=auth(token), timeout=10)
        assert answer.json()["error"]["code"] == "target_refused"


def test_an_acked_message_is_delivered_after_the_process_is_killed(tmp_path, receiver):
    # Polls far apart: the kill comes before the duty could have queued the message.
    server = LiveServer(tmp_path, **{**FAST, "WEBHOOK_POLL_SECONDS": "30"})
    server.start()
    try:
        token, room = setup_room(server)
        target = receiver()
        add_webhook(server, token, room, target.url)
        sent = post(server, token, room, "acked, then the process died")
        server.stop(kill=True)
        assert target.requests == []
        server.env["WEBHOOK_POLL_SECONDS"] = "0.2"
        server.start()
        assert eventually(lambda: len(target.requests) == 1, timeout=20)
        assert target.requests[0]["json"]["message"]["id"] == sent["id"]
    finally:
        server.stop()


def test_two_processes_send_each_delivery_once(tmp_path, receiver):
    first = LiveServer(tmp_path, **FAST)
    first.start()
    second = LiveServer(tmp_path, **FAST)  # the same database file, its own port
    second.env["DATABASE_URL"] = first.env["DATABASE_URL"]
    second.start()
    try:
        token, room = setup_room(first)
        target = receiver()
        add_webhook(first, token, room, target.url)
        sent = [post((first, second)[i % 2], token, room, f"m{i}")["id"] for i in range(20)]
        assert eventually(lambda: len(target.requests) >= 20, timeout=30)
        eventually(lambda: len(target.requests) > 20, timeout=2)  # a duplicate would show now
        delivered = sorted(r["json"]["message"]["id"] for r in target.requests)
        assert delivered == sorted(sent)
        assert len({r["headers"]["X-Parley-Delivery"] for r in target.requests}) == 20
    finally:
        second.stop()
        first.stop()


def test_the_example_receiver_verifies_and_answers(server, tmp_path):
    """examples/webhook_receiver.py, as docs/api.md tells receivers to check, against the server."""
    import subprocess
    import sys

    from tests.support import ROOT, free_port

    token, room = setup_room(server)
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    secret = add_webhook(server, token, room, url)
    log = open(tmp_path / "receiver.log", "w+")  # noqa: SIM115 - the receiver's life
    receiver = subprocess.Popen([sys.executable, "examples/webhook_receiver.py", "--port", str(port),
                                 "--secret", secret], cwd=ROOT, stdout=log, stderr=log)
    try:
        assert eventually(lambda: "listening" in (tmp_path / "receiver.log").read_text(), timeout=10)
        post(server, token, room, "hello receiver")
        assert eventually(lambda: "hello receiver" in (tmp_path / "receiver.log").read_text(),
                          timeout=20)
        forged = requests.post(url, data=b'{"message": {}}', timeout=5, headers={
            "X-Parley-Timestamp": "1", "X-Parley-Signature": "sha256=00"})
        assert forged.status_code == 401
        listed = requests.get(f"{server.url}/api/rooms/{room}/webhooks", headers=auth(token),
                              timeout=10).json()["webhooks"]
        assert listed[0]["last_status"] == "200"
    finally:
        receiver.terminate()
        receiver.wait(10)
        log.close()

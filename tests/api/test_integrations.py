"""REST management of a room's integrations: owners (and admins) only, secrets shown once, the
SSRF guard at registration."""
import pytest

from tests.api.test_rooms import bearer
from webapp import accounts


@pytest.fixture
def tokens(app):
    made = {}
    with app.app_context():
        for name, admin in (("owner", False), ("other", False), ("boss", True)):
            made[name] = accounts.create_token(
                accounts.create_user(name, "long enough password", admin=admin), "t")[1]
    return made


@pytest.fixture
def room(app, client, tokens):
    from webapp.chat import rooms, service
    with app.app_context():
        owner = service.connect({"token": tokens["owner"]}, None)
        rooms.create_room(owner, {"room": "team"})
    return "team"


@pytest.mark.parametrize("kind,body,key", [
    ("webhooks", {"url": "http://127.0.0.1:9/x", "trigger": "deploy"}, "secret"),
    ("hooks", {"name": "ci"}, "url"),
    ("commands", {"name": "weather", "url": "http://127.0.0.1:9/x"}, "secret"),
])
def test_owner_adds_lists_and_removes(app, client, tokens, room, kind, body, key):
    app.config["WEBHOOK_ALLOWED_NETWORKS"] = ["127.0.0.0/8"]
    base = f"/api/rooms/{room}/{kind}"
    made = client.post(base, json=body, headers=bearer(tokens["owner"]))
    assert made.status_code == 201, made.json
    assert made.json[key]  # the secret (or the secret URL), this once
    item = made.json[{"webhooks": "webhook", "hooks": "hook", "commands": "command"}[kind]]
    listed = client.get(base, headers=bearer(tokens["owner"])).json[kind]
    assert [i["id"] for i in listed] == [item["id"]]
    assert "secret" not in str(listed) and "token" not in str(listed)
    assert client.get(base, headers=bearer(tokens["other"])).status_code == 403
    assert client.post(base, json=body, headers=bearer(tokens["other"])).status_code == 403
    assert client.delete(f"{base}/{item['id']}", headers=bearer(tokens["other"])).status_code == 403
    assert client.delete(f"{base}/{item['id']}", headers=bearer(tokens["boss"])).status_code == 204
    assert client.delete(f"{base}/{item['id']}", headers=bearer(tokens["owner"])).status_code == 404


@pytest.mark.parametrize("url,code", [
    ("http://127.0.0.1:9/x", "target_refused"),  # loopback, without WEBHOOK_ALLOWED_NETWORKS
    ("http://10.0.0.1/x", "target_refused"),
    ("http://169.254.169.254/latest/meta-data/", "target_refused"),
    ("http://[::1]/x", "target_refused"),
    ("ftp://example.com/x", "invalid_url"),
])
def test_ssrf_targets_are_refused_at_registration(client, tokens, room, url, code):
    for kind, body in (("webhooks", {"url": url}), ("commands", {"name": "x", "url": url})):
        answer = client.post(f"/api/rooms/{room}/{kind}", json=body, headers=bearer(tokens["owner"]))
        assert answer.status_code == 400 and answer.json["error"]["code"] == code
        assert client.get(f"/api/rooms/{room}/{kind}", headers=bearer(tokens["owner"])).json[kind] == []


@pytest.mark.parametrize("body,code", [
    ({"name": "me", "url": "http://127.0.0.1:9/"}, "command_exists"),
    ({"name": "Bad Name", "url": "http://127.0.0.1:9/"}, "invalid_payload"),
    ({"name": "x", "url": "http://127.0.0.1:9/", "global": True}, "forbidden"),
])
def test_bad_commands(app, client, tokens, room, body, code):
    app.config["WEBHOOK_ALLOWED_NETWORKS"] = ["127.0.0.0/8"]
    answer = client.post(f"/api/rooms/{room}/commands", json=body, headers=bearer(tokens["owner"]))
    assert answer.json["error"]["code"] == code


def test_the_session_needs_the_csrf_token_to_write(client, room):
    answer = client.post(f"/api/rooms/{room}/hooks", json={"name": "ci"})
    assert answer.status_code == 400 and answer.json["error"]["code"] == "csrf_failed"


def test_global_commands_are_admins(app, client, tokens, room):
    app.config["WEBHOOK_ALLOWED_NETWORKS"] = ["127.0.0.0/8"]
    body = {"name": "oncall", "url": "http://127.0.0.1:9/", "global": True}
    made = client.post(f"/api/rooms/{room}/commands", json=body, headers=bearer(tokens["boss"]))
    assert made.status_code == 201 and made.json["command"]["global"] is True
    listed = client.get(f"/api/rooms/{room}/commands", headers=bearer(tokens["owner"])).json
    assert [(c["name"], c["global"]) for c in listed["commands"]] == [("oncall", True)]
    again = client.post(f"/api/rooms/{room}/commands", json={**body, "global": False},
                        headers=bearer(tokens["owner"]))
    assert again.json["error"]["code"] == "command_exists"
    path = f"/api/rooms/{room}/commands/{made.json['command']['id']}"
    assert client.delete(path, headers=bearer(tokens["owner"])).status_code == 404  # not hers
    assert client.delete(path, headers=bearer(tokens["boss"])).status_code == 204

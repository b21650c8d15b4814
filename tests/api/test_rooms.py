"""The REST API on the same service: bearer tokens, the same validation, broadcast to sockets."""
import pytest

from webapp import accounts
from webapp.chat import service
from webapp.extensions import socketio


@pytest.fixture
def token(app):
    with app.app_context():
        user = accounts.create_user("robot", "long enough password")
        return accounts.create_token(user, "api")[1]


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_rooms_are_listed(client):
    assert [r["name"] for r in client.get("/api/rooms").json["rooms"]] == ["general"]


def test_post_stores_broadcasts_and_reads_back(app, client, token):
    listener = socketio.test_client(app, auth={"name": "reader"})
    listener.emit("join", {"room": "general"}, callback=True)
    listener.get_received()
    response = client.post("/api/rooms/general/messages", json={"text": "from REST", "client_id": "r1"},
                           headers=bearer(token))
    assert response.status_code == 201
    message = response.json["message"]
    assert message["author"] == "robot" and message["guest"] is False
    got = [item["args"] for item in listener.get_received() if item["name"] == "message"]
    assert got == [message]
    again = client.post("/api/rooms/general/messages", json={"text": "from REST", "client_id": "r1"},
                        headers=bearer(token))
    assert again.status_code == 200 and again.json["message"] == message  # idempotent retry
    page = client.get("/api/rooms/general/messages?limit=10", headers=bearer(token))
    assert page.json["messages"] == [message]
    after = client.get(f"/api/rooms/general/messages?after={message['id']}", headers=bearer(token))
    assert after.json["messages"] == []


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer pt_wrong"}, {"Authorization": "Basic x"}])
def test_no_valid_token_no_access(client, headers):
    assert client.get("/api/rooms/general/messages", headers=headers).status_code == 401
    response = client.post("/api/rooms/general/messages", json={"text": "x"}, headers=headers)
    assert response.status_code == 401 and response.json["error"]["code"] in {"auth_required", "invalid_token"}


@pytest.mark.parametrize(
    "path,body,status,code",
    [
        ("/api/rooms/general/messages", {"text": ""}, 400, "invalid_text"),
        ("/api/rooms/general/messages", ["text"], 400, "invalid_payload"),
        ("/api/rooms/Bad%20Room/messages", {"text": "x"}, 400, "invalid_room"),
        ("/api/rooms/nowhere/messages", {"text": "x"}, 404, "not_found"),
    ],
)
def test_bad_posts_get_their_code_and_store_nothing(client, token, path, body, status, code):
    response = client.post(path, json=body, headers=bearer(token))
    assert (response.status_code, response.json["error"]["code"]) == (status, code)
    assert client.get("/api/rooms/general/messages", headers=bearer(token)).json["messages"] == []


def test_bad_query_values(client, token):
    response = client.get("/api/rooms/general/messages?limit=abc", headers=bearer(token))
    assert response.status_code == 400 and response.json["error"]["code"] == "invalid_payload"


def test_unknown_urls_answer_json_without_detail(client):
    response = client.get("/api/nope")
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"


def test_private_rooms_are_closed_to_non_members_over_rest(app, client, token):
    with app.app_context():
        owner = accounts.create_user("owner", "long enough password")
        owner_token = accounts.create_token(owner, "t")[1]
    sock = socketio.test_client(app, auth={"token": owner_token})
    sock.emit("create_room", {"room": "vault", "private": True}, callback=True)
    ok = client.post("/api/rooms/vault/messages", json={"text": "mine"}, headers=bearer(owner_token))
    assert ok.status_code == 201
    for method in (client.get, client.post):
        response = method("/api/rooms/vault/messages", json={"text": "x"}, headers=bearer(token))
        # the same answer as for a room that does not exist: its existence does not leak
        assert response.status_code == 404 and response.json["error"]["code"] == "not_found"
        assert "mine" not in response.text
    assert "vault" not in [r["name"] for r in client.get("/api/rooms").json["rooms"]]


def test_over_the_limit_answers_429_with_retry_after(client, token):
    statuses = [
        client.post("/api/rooms/general/messages", json={"text": f"m{i}"}, headers=bearer(token))
        for i in range(31)  # the default limit is 30 per 10 seconds
    ]
    assert [r.status_code for r in statuses[:30]] == [201] * 30
    limited = statuses[30]
    assert limited.status_code == 429 and limited.json["error"]["code"] == "rate_limited"
    assert 1 <= int(limited.headers["Retry-After"]) <= 10
    assert 0 < limited.json["error"]["retry_after"] <= 10


def test_rooms_come_a_page_at_a_time(app, client):
    with app.app_context():
        for name in ("alpha", "beta", "gamma"):
            service.ensure_room(name)
    first = client.get("/api/rooms?limit=2").json
    assert [r["name"] for r in first["rooms"]] == ["alpha", "beta"] and first["next"] == "beta"
    rest = client.get(f"/api/rooms?limit=2&after={first['next']}").json
    assert [r["name"] for r in rest["rooms"]] == ["gamma", "general"] and rest["next"] is None
    assert len(client.get("/api/rooms").json["rooms"]) == 4  # no arguments: up to 100


@pytest.mark.parametrize("query", ["limit=0", "limit=201", "limit=abc", "after=Bad%20Name"])
def test_bad_room_pages_answer_400(client, query):
    response = client.get(f"/api/rooms?{query}")
    assert response.status_code == 400 and response.json["error"]["code"] == "invalid_payload"


def test_history_reads_are_limited_too(client, token):
    statuses = [client.get("/api/rooms/general/messages", headers=bearer(token)).status_code
                for _ in range(61)]  # the default limit is 60 per 10 seconds
    assert statuses == [200] * 60 + [429]


def test_a_reply_posted_over_rest_joins_its_thread(app, client, token):
    listener = socketio.test_client(app, auth={"name": "reader"})
    listener.emit("join", {"room": "general"}, callback=True)
    root = client.post("/api/rooms/general/messages", json={"text": "root"},
                       headers=bearer(token)).json["message"]
    listener.get_received()
    response = client.post("/api/rooms/general/messages",
                           json={"text": "a reply", "reply_to": root["id"], "client_id": "x1"},
                           headers=bearer(token))
    assert response.status_code == 201 and response.json["message"]["reply_to"] == root["id"]
    events = [(i["name"], i["args"] if i["name"] == "message" else i["args"][0])
              for i in listener.get_received()]
    assert [name for name, _ in events] == ["message", "replies"]
    assert events[1][1]["message"]["reply_count"] == 1
    again = client.post("/api/rooms/general/messages",
                        json={"text": "a reply", "reply_to": root["id"], "client_id": "x1"},
                        headers=bearer(token))
    assert again.status_code == 200 and again.json["message"]["id"] == response.json["message"]["id"]
    wrong = client.post("/api/rooms/general/messages", json={"text": "x", "reply_to": 10**9},
                        headers=bearer(token))
    assert wrong.status_code == 404 and wrong.json["error"]["code"] == "not_found"

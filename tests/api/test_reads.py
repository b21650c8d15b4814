"""Read state and mentions over REST (issue 18): the same operations as the event API."""
import pytest

from tests.api.test_rooms import bearer
from webapp import accounts
from webapp.extensions import socketio

ROOM = "general"


@pytest.fixture
def tokens(app):
    with app.app_context():
        return {name: accounts.create_token(accounts.create_user(name, "long enough password"),
                                            "api")[1] for name in ("robot", "bob")}


def post(client, token, text):
    response = client.post(f"/api/rooms/{ROOM}/messages", json={"text": text},
                           headers=bearer(token))
    assert response.status_code == 201, response.json
    return response.json["message"]


def test_rooms_mark_read_and_the_live_connection_hears_it(app, client, tokens):
    bob_live = socketio.test_client(app, auth={"token": tokens["bob"]})
    assert bob_live.emit("join", {"room": ROOM}, callback=True)["ok"]
    first, second = post(client, tokens["robot"], "one"), post(client, tokens["robot"], "@bob two")
    listed = client.get("/api/rooms", headers=bearer(tokens["bob"]))
    assert listed.headers["Cache-Control"] == "no-store"
    assert listed.json["rooms"][0] | {"unread": 2, "mentions": 1} == listed.json["rooms"][0]
    assert "unread" not in client.get("/api/rooms").json["rooms"][0]  # anonymous: no counts
    bob_live.get_received()
    marked = client.post(f"/api/rooms/{ROOM}/read", json={"id": first["id"]},
                         headers=bearer(tokens["bob"]))
    assert marked.json == {"room": ROOM, "last_read": first["seq"], "unread": 1, "mentions": 1}
    events = [e["args"][0] for e in bob_live.get_received() if e["name"] == "read"]
    assert events == [marked.json]
    mentions = client.get("/api/mentions", headers=bearer(tokens["bob"])).json
    assert [m["id"] for m in mentions["messages"]] == [second["id"]] and mentions["next"] is None


@pytest.mark.parametrize("method, path, body, status, code", [
    ("post", f"/api/rooms/{ROOM}/read", {"seq": "x"}, 400, "invalid_payload"),
    ("post", f"/api/rooms/{ROOM}/read", ["seq"], 400, "invalid_payload"),
    ("post", f"/api/rooms/{ROOM}/read", {}, 400, "invalid_read"),
    ("post", "/api/rooms/nowhere/read", {"seq": 1}, 404, "not_found"),
    ("put", "/api/settings/read-receipts", {"on": 1}, 400, "invalid_payload"),
    ("get", "/api/mentions?limit=0", None, 400, "invalid_payload"),
])
def test_bad_requests_get_codes(client, tokens, method, path, body, status, code):
    response = getattr(client, method)(path, json=body, headers=bearer(tokens["bob"]))
    assert (response.status_code, response.json["error"]["code"]) == (status, code)


def test_writes_need_a_token(client, tokens):
    assert client.post(f"/api/rooms/{ROOM}/read", json={"seq": 0}).status_code == 401
    assert client.put("/api/settings/read-receipts", json={"on": False}).status_code == 401
    response = client.put("/api/settings/read-receipts", json={"on": False},
                          headers=bearer(tokens["bob"]))
    assert response.json == {"send_receipts": False}

"""Protocol v2's operations over REST: edit, delete, react, pin, thread, edits, changes -- the same
operations as the event API (webapp/chat/ops.py), with bearer tokens for writes."""
import pytest

from tests.api.test_rooms import bearer
from webapp import accounts
from webapp.extensions import socketio

ROOM = "general"


@pytest.fixture
def tokens(app):
    with app.app_context():
        return {name: accounts.create_token(accounts.create_user(name, "long enough password"),
                                            "api")[1] for name in ("robot", "other")}


def post(client, token, text, **more):
    response = client.post(f"/api/rooms/{ROOM}/messages", json={"text": text, **more},
                           headers=bearer(token))
    assert response.status_code == 201, response.json
    return response.json["message"]


def test_edit_react_pin_delete_and_the_change_log(app, client, tokens):
    listener = socketio.test_client(app, auth={"name": "reader"})
    start = listener.emit("join", {"room": ROOM}, callback=True)["seq"]
    msg = post(client, tokens["robot"], "helo")
    base = f"/api/rooms/{ROOM}/messages/{msg['id']}"
    edited = client.patch(base, json={"text": "hello"}, headers=bearer(tokens["robot"]))
    assert edited.status_code == 200 and edited.json["message"]["text"] == "hello"
    assert client.patch(base, json={"text": "mine"}, headers=bearer(tokens["other"])).status_code == 403
    assert client.patch(base, json={"text": "x"}).status_code == 401  # a session is not enough
    versions = client.get(f"{base}/edits", headers=bearer(tokens["other"])).json["versions"]
    assert [v["text"] for v in versions] == ["helo", "hello"]
    reacted = client.put(f"{base}/reactions/👍", headers=bearer(tokens["other"]))
    assert reacted.status_code == 200
    assert reacted.json["message"]["reactions"] == [{"emoji": "👍", "count": 1, "users": ["other"]}]
    assert client.put(f"{base}/reactions/nope", headers=bearer(tokens["other"])).json["error"][
        "code"] == "invalid_emoji"
    reply = post(client, tokens["other"], "a reply", reply_to=msg["id"])
    thread = client.get(f"{base}/thread", headers=bearer(tokens["robot"])).json
    assert thread["root"]["reply_count"] == 1 and [m["id"] for m in thread["replies"]] == [reply["id"]]
    assert client.put(f"/api/rooms/{ROOM}/pins/{msg['id']}",
                      headers=bearer(tokens["robot"])).status_code == 403  # general has no owner
    log = client.get(f"/api/rooms/{ROOM}/changes?since={start}", headers=bearer(tokens["robot"])).json
    assert log["more"] is False and [c["id"] for c in log["changes"]] == [reply["id"], msg["id"]]
    assert client.delete(base, headers=bearer(tokens["other"])).status_code == 403
    assert client.delete(base, headers=bearer(tokens["robot"])).status_code == 204
    assert client.get(f"{base}/edits", headers=bearer(tokens["robot"])).status_code == 404
    names = [i["name"] for i in listener.get_received()]
    assert names == ["presence", "message", "message_edited", "reaction", "message", "replies",
                     "message_deleted"]
    expired = client.get(f"/api/rooms/{ROOM}/changes?since={10**6}", headers=bearer(tokens["robot"]))
    assert expired.status_code == 409 and expired.json["error"]["code"] == "sync_expired"
    assert client.get(f"/api/rooms/{ROOM}/changes", headers=bearer(tokens["robot"])).status_code == 400


def test_search_and_a_result_opened_in_its_context(client, tokens):
    ids = [post(client, tokens["robot"], text)["id"]
           for text in ("before it", "the needle is here", "after it", "later still")]
    found = client.get("/api/search?q=NEEDLE", headers=bearer(tokens["other"])).json
    [result] = found["results"]
    assert result["message"]["id"] == ids[1] and found["cursor"] is None
    assert result["message"]["text"][slice(*result["highlight"][0])] == "needle"
    around = client.get(f"/api/rooms/{ROOM}/messages?around={ids[1]}&limit=3",
                        headers=bearer(tokens["other"])).json["messages"]
    assert [m["id"] for m in around] == ids[:3]
    assert client.get("/api/search?q=", headers=bearer(tokens["other"])).status_code == 400
    assert client.get("/api/search?q=needle").status_code == 401

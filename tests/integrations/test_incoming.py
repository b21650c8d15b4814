"""Incoming webhooks: Slack-compatible JSON (and form) posts to a room by its secret URL."""
import json

import pytest

from tests.api.test_rooms import bearer
from tests.socket.conftest import call, received
from webapp.extensions import ratelimits, socketio

# What a CI job posts to Slack (blocks with a header, a section with fields, a context line).
CI_PAYLOAD = {
    "username": "GitLab CI",
    "text": "Pipeline #42 passed",
    "blocks": [
        {"type": "header", "text": {"type": "plain_text", "text": "Pipeline #42 passed"}},
        {"type": "section", "text": {"type": "mrkdwn",
                                     "text": "*main* <https://ci.example.com/p/42|view pipeline>"},
         "fields": [{"type": "mrkdwn", "text": "*Duration:* 3m 12s"}]},
        {"type": "divider"},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "by alice &amp; bob"}]},
    ],
}


@pytest.fixture
def hook_url(app, client, token_of):
    token = token_of("owner")
    with app.app_context():
        from webapp.chat import rooms, service
        rooms.create_room(service.connect({"token": token}, None), {"room": "builds"})
    answer = client.post("/api/rooms/builds/hooks", json={"name": "ci"}, headers=bearer(token))
    assert answer.status_code == 201
    return answer.json["url"].removeprefix("http://localhost")


def test_a_slack_ci_payload_is_posted_as_the_hook(app, client, hook_url):
    watcher = socketio.test_client(app, auth={"name": "watcher"})
    call(watcher, "join", {"room": "builds"})
    answer = client.post(hook_url, json=CI_PAYLOAD)
    assert answer.status_code == 200 and answer.data == b"ok"
    [message] = received(watcher, "message")
    assert message["author"] == "ci" and message["bot"] is True
    assert message["username"] == "GitLab CI"
    assert message["text"] == ("Pipeline #42 passed\n*main* view pipeline "
                               "(https://ci.example.com/p/42)\n*Duration:* 3m 12s\nby alice & bob")


def test_plain_text_and_the_form_encoding(app, client, hook_url):
    assert client.post(hook_url, json={"text": "<https://x.example|x.example> is down"}).data == b"ok"
    form = {"payload": json.dumps({"text": "back up"})}
    assert client.post(hook_url, data=form).data == b"ok"
    watcher = socketio.test_client(app, auth={"name": "watcher"})
    history = call(watcher, "join", {"room": "builds"})["history"]
    assert [m["text"] for m in history] == ["x.example (https://x.example) is down", "back up"]


@pytest.mark.parametrize("body,kwargs,code", [
    (b"{not json", {"content_type": "application/json"}, "invalid_json"),
    (b"[1, 2]", {"content_type": "application/json"}, "invalid_json"),
    (b"payload=nope", {"content_type": "application/x-www-form-urlencoded"}, "invalid_json"),
    (json.dumps({"text": ""}).encode(), {"content_type": "application/json"}, "no_text"),
    (json.dumps({"blocks": [{"type": "divider"}]}).encode(), {"content_type": "application/json"},
     "no_text"),
    (json.dumps({"text": 5}).encode(), {"content_type": "application/json"}, "no_text"),
    (json.dumps({"text": "\x00 "}).encode(), {"content_type": "application/json"}, "no_text"),
])
def test_bad_bodies_are_refused_and_nothing_is_stored(app, client, hook_url, body, kwargs, code):
    answer = client.post(hook_url, data=body, **kwargs)
    assert answer.status_code == 400 and answer.json["error"]["code"] == code
    watcher = socketio.test_client(app, auth={"name": "watcher"})
    assert call(watcher, "join", {"room": "builds"})["history"] == []


def test_unknown_tokens_and_the_rate_limit(app, client, hook_url):
    assert client.post("/hooks/nope", json={"text": "x"}).json["error"]["code"] == "no_service"
    app.config["RATE_LIMIT_INCOMING_WEBHOOK"] = "2 per minute"
    ratelimits.init_app(app)
    codes = [client.post(hook_url, json={"text": "x"}).status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_a_hook_post_counts_as_unread_and_its_mentions_reach_people(app, client, hook_url, token_of):
    alice = socketio.test_client(app, auth={"token": token_of("alice")})
    joined = call(alice, "join", {"room": "builds"})
    call(alice, "read", {"room": "builds", "seq": joined["seq"]})
    assert client.post(hook_url, json={"text": "build broke, @alice please look"}).data == b"ok"
    [message] = received(alice, "message")
    assert message["mentions"] == ["alice"]
    [room] = [r for r in call(alice, "rooms", {})["rooms"] if r["name"] == "builds"]
    assert (room["unread"], room["mentions"]) == (1, 1)  # a bot's post is news like anyone's
    [mention] = call(alice, "mentions", {})["messages"]
    assert mention["id"] == message["id"]

"""Retention on the real server: the owner sets it by REST, the job removes what is older, and
readers no longer get it."""
from __future__ import annotations

import sqlite3

import requests

from tests.support import ChatClient, LiveServer, unique


def test_a_rooms_retention_set_by_rest_removes_old_messages(tmp_path):
    server = LiveServer(tmp_path)
    server.start()
    try:
        owner = unique("owner")
        server.flask("users", "create", owner, "--password", "a long enough password")
        token = server.flask("tokens", "create", owner, "t").splitlines()[-1]
        auth = {"Authorization": f"Bearer {token}"}
        client = ChatClient(server.url, owner).connect(token=token)
        room = unique("short")
        assert client.call("create_room", {"room": room})["ok"]
        assert client.call("join", {"room": room})["ok"]
        old = client.call("message", {"room": room, "text": "old news"})["message"]["id"]
        new = client.call("message", {"room": room, "text": "fresh"})["message"]["id"]
        client.close()

        url = f"{server.url}/api/rooms/{room}/retention"
        assert requests.put(url, json={"days": "7"}, headers=auth, timeout=30).status_code == 400
        assert requests.put(url, json={"days": 7}, timeout=30).status_code == 401
        answer = requests.put(url, json={"days": 7}, headers=auth, timeout=30)
        assert answer.status_code == 200 and answer.json()["retention_days"] == 7

        with sqlite3.connect(tmp_path / "live.sqlite3") as conn:  # as if written 8 days ago
            conn.execute("UPDATE messages SET created_at = datetime('now', '-8 days') "
                         "WHERE id = ?", (old,))
        assert server.flask("retention") == "removed 1 messages"
        page = requests.get(f"{server.url}/api/rooms/{room}/messages", headers=auth, timeout=30)
        assert [m["id"] for m in page.json()["messages"]] == [new]
    finally:
        server.stop()

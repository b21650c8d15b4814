"""The restore drill of docs/operations.md, "Backups and the restore drill", on real servers: a
backup taken while a server stores messages restores into a new server that has every message
acknowledged before the backup began, and the files."""
from __future__ import annotations

import shutil
import sqlite3
import threading
import time

import requests

from tests.support import ChatClient, LiveServer, eventually, unique

BUSY = {"RATE_LIMIT_MESSAGE": "100000 per minute", "RATE_LIMIT_HISTORY": "100000 per minute"}


def write_until(stop: threading.Event, client: ChatClient, room: str, acked: list) -> None:
    """Post messages one after the other, recording (when acknowledged, id) for each."""
    n = 0
    while not stop.is_set():
        ack = client.call("message", {"room": room, "text": f"drill {n}"}, timeout=30)
        assert ack["ok"], ack
        acked.append((time.monotonic(), ack["message"]["id"]))
        n += 1


def all_ids(url: str, room: str) -> set[int]:
    reader = ChatClient(url, unique("reader")).connect()
    try:
        assert reader.call("join", {"room": room})["ok"]
        ids, after = set(), 0
        while page := reader.call("history", {"room": room, "after": after, "limit": 100})[
                "messages"]:
            ids.update(m["id"] for m in page)
            after = page[-1]["id"]
        return ids
    finally:
        reader.close()


def upload_file(server: LiveServer, room: str) -> tuple[str, str]:
    """An account uploads a file and sends it; answer (its token, the file's url)."""
    server.flask("users", "create", "drill", "--password", "a long drill password")
    token = server.flask("tokens", "create", "drill", "drill").splitlines()[-1]
    auth = {"Authorization": f"Bearer {token}"}
    shown = requests.post(f"{server.url}/api/rooms/{room}/files", headers=auth, timeout=30,
                          files={"file": ("notes.txt", b"kept in the backup\n")}).json()["file"]
    sent = requests.post(f"{server.url}/api/rooms/{room}/messages", headers=auth, timeout=30,
                         json={"text": "with a file", "files": [shown["id"]]})
    assert sent.status_code == 201, sent.text
    return token, shown["url"]


def test_a_backup_taken_while_messages_arrive_restores_every_acknowledged_one(tmp_path):
    live = LiveServer(tmp_path / "live", **BUSY)
    (tmp_path / "live").mkdir()
    live.start()
    room = unique("drill")
    writer = ChatClient(live.url, unique("writer")).connect()
    stop, acked = threading.Event(), []
    try:
        assert writer.call("join", {"room": room})["ok"]
        token, file_url = upload_file(live, room)
        thread = threading.Thread(target=write_until, args=(stop, writer, room, acked))
        thread.start()
        assert eventually(lambda: len(acked) >= 20, timeout=60)
        began = time.monotonic()
        live.flask("backup", str(tmp_path / "backup"))
        ended = time.monotonic()
        # The server kept storing while the backup ran (or right after it).
        assert eventually(lambda: any(at > ended for at, _ in acked), timeout=30)
        stop.set()
        thread.join(timeout=60)
    finally:
        stop.set()
        writer.close()
        live.stop()
    before = {msg_id for at, msg_id in acked if at < began}
    assert len(before) >= 20

    # The drill (docs/operations.md): a new server's database and files from the backup.
    restored = LiveServer(tmp_path / "restored", **BUSY)
    (tmp_path / "restored").mkdir()
    backup = tmp_path / "backup"
    shutil.copy(backup / "parley.sqlite3", tmp_path / "restored" / "live.sqlite3")
    shutil.copytree(backup / "files", tmp_path / "restored" / "files")
    with sqlite3.connect(tmp_path / "restored" / "live.sqlite3") as check:
        assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    restored.start()
    try:
        assert before <= all_ids(restored.url, room)
        got = requests.get(restored.url + file_url, timeout=30,
                           headers={"Authorization": f"Bearer {token}"})
        assert got.status_code == 200 and got.content == b"kept in the backup\n"
    finally:
        restored.stop()


def test_a_backup_refuses_a_directory_that_is_not_empty(tmp_path, app):
    target = tmp_path / "full"
    target.mkdir()
    (target / "something").write_text("x")
    result = app.test_cli_runner().invoke(args=["backup", str(target)])
    assert result.exit_code != 0 and "not empty" in result.output

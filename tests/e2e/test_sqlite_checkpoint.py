"""SQLite's write-ahead log is checkpointed by a thread of the server, not inside a commit.

The messages must reach the database file itself within seconds, long before the WAL grows to
the size at which a commit would checkpoint on its own (webapp/server/serving.py). The test reads a
copy of the main file alone, without its -wal: that copy holds only what was checkpointed.
"""
import shutil
import sqlite3
import time

from tests.support import ChatClient, unique


def _checkpointed_texts(db_file, copy) -> set[str]:
    shutil.copyfile(db_file, copy)
    conn = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
    try:
        return {text for (text,) in conn.execute("SELECT text FROM messages")}
    except sqlite3.DatabaseError:  # copied while a checkpoint was writing it: read again
        return set()
    finally:
        conn.close()


def test_messages_reach_the_database_file_within_seconds(fresh_server, tmp_path):
    fresh_server.start()
    db_file = fresh_server.workdir / "live.sqlite3"
    alice = ChatClient(fresh_server.url, unique("alice")).connect()
    room = unique("wal")
    alice.call("join", {"room": room})
    texts = {f"{room} {i}" for i in range(20)}
    for text in sorted(texts):
        assert alice.call("message", {"room": room, "text": text})["ok"]
    assert db_file.with_name(db_file.name + "-wal").stat().st_size > 0  # written to the WAL first

    deadline = time.monotonic() + 10
    while not texts <= (found := _checkpointed_texts(db_file, tmp_path / "copy.sqlite3")):
        assert time.monotonic() < deadline, f"only {len(texts & found)} of 20 checkpointed"
        time.sleep(0.2)  # the checkpoint thread runs every second
    alice.close()

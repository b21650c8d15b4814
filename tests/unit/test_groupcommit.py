"""Group commit: concurrent writers all get their own row, a duplicate finds the first, in order."""
import threading

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from webapp.chat import service
from webapp.extensions import db
from webapp.models import Message, Room


def test_concurrent_posts_are_all_stored_once(app):
    results, errors = [], []
    start = threading.Barrier(12)

    def post(i):
        with app.app_context():
            start.wait()
            # writers 10 and 11 are one author's retry of the same send
            author, cid = ("bob", "same") if i >= 10 else (f"u{i}", f"c{i}")
            try:
                results.append(service.store_message("general", author, f"t{i}", cid, guest=True))
            except Exception as exc:  # noqa: BLE001 - collected and asserted on below
                errors.append(exc)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len(results) == 12
    assert sum(new for _, new in results) == 11
    bobs = {msg["id"] for msg, _ in results if msg["author"] == "bob"}
    assert len(bobs) == 1  # the retry answered the stored message
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Message)) == 11
        ids = db.session.scalars(select(Message.id).order_by(Message.id)).all()
    assert sorted(msg["id"] for msg, new in results if new) == ids


def _room_seq(app) -> int:
    with app.app_context():
        return db.session.scalar(select(Room.seq).where(Room.name == "general"))


def _stored(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Message))


def test_a_full_database_fails_the_messages_and_stores_nothing_of_them(app):
    """SQLite answering "database or disk is full" (a page limit on the committer's connection,
    as a full disk answers): each message fails with the database's error, no row and no seq is
    kept of it, and once there is room again the next message takes the next seq."""
    with app.app_context():
        first, _ = service.store_message("general", "alice", "before", "c0", guest=True)
        committer = app.extensions["parley.group_commit"]
        raw = committer._connection().connection.dbapi_connection
        pages = raw.execute("PRAGMA page_count").fetchone()[0]
        raw.execute(f"PRAGMA max_page_count = {pages}")
    seq, stored = _room_seq(app), _stored(app)

    big = "x" * 3900  # every message needs pages the database may not have
    errors = []

    def post(i):
        with app.app_context():
            try:
                service.store_message("general", "alice", f"{big} {i}", f"full-{i}", guest=True)
            except OperationalError as exc:
                errors.append(exc)

    post(0)  # alone
    threads = [threading.Thread(target=post, args=(i,)) for i in range(1, 6)]  # and in a batch
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(errors) == 6
    assert all("full" in str(exc.orig) for exc in errors), errors
    assert (_room_seq(app), _stored(app)) == (seq, stored)

    raw.execute("PRAGMA max_page_count = 1073741823")
    with app.app_context():
        after, new = service.store_message("general", "alice", big, "full-0", guest=True)
    assert new and after["seq"] == first["seq"] + 1
    assert (_room_seq(app), _stored(app)) == (seq + 1, stored + 1)

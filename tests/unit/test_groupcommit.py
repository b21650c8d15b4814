"""Group commit: concurrent writers all get their own row, a duplicate finds the first, in order."""
import threading

from sqlalchemy import func, select

from webapp.chat import service
from webapp.extensions import db
from webapp.models import Message


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

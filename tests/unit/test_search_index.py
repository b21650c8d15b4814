"""SQLite's search index a few messages behind: a search still finds everything stored before it,
the committer catches up by itself, and edits and deletions keep the index true either side of
the mark (FTS5's integrity check compares the index with the messages)."""
from sqlalchemy import delete, select, text

from tests.support import eventually
from webapp.chat import search, search_index, service
from webapp.chat.folding import fold
from webapp.extensions import db
from webapp.models import Message

READER = service.Member(sid=None, name="reader", guest=False, user_id=None)


def post(app, words: str, n: int = 1) -> list[int]:
    with app.app_context():
        return [service.store_message("general", "alice", f"{words} {i}", f"{words}-{i}",
                                      guest=True)[0]["id"] for i in range(n)]


def found(app, query: str) -> list[str]:
    with app.app_context():
        return [r["message"]["text"] for r in search.search(READER, {"q": query})["results"]]


def mark(app) -> int:
    with app.app_context():
        return db.session.scalar(text(f"SELECT id FROM {search_index.MARK}"))


def check_integrity(app) -> None:
    """FTS5 compares its index with the content table; a stray or missing entry fails it (the
    waiting messages are indexed first: the check counts them missing)."""
    with app.app_context():
        search_index.flush()
        db.session.execute(text("INSERT INTO messages_search(messages_search, rank) "
                                "VALUES ('integrity-check', 1)"))
        db.session.commit()


def test_a_search_finds_what_was_stored_before_it_though_not_yet_indexed(app):
    [first] = post(app, "quarterly roadmap")
    assert mark(app) < first  # waiting: fewer than BEHIND
    assert found(app, "roadmap") == ["quarterly roadmap 0"]
    assert mark(app) == first  # the search indexed it
    check_integrity(app)


def test_the_committer_catches_up_without_a_search(app):
    ids = post(app, "standup notes", search_index.BEHIND)
    eventually(lambda: mark(app) == ids[-1], timeout=10)
    check_integrity(app)


def test_edits_and_deletions_either_side_of_the_mark_keep_the_index_true(app):
    indexed_edit, indexed_gone = post(app, "indexed", 2)
    assert found(app, "indexed")  # indexes them
    waiting_edit, waiting_gone = post(app, "waiting", 2)
    assert mark(app) < waiting_edit

    with app.app_context():
        for message_id, words in ((indexed_edit, "pineapple"), (waiting_edit, "blueberry")):
            message = db.session.get(Message, message_id)
            message.text, message.search_text = words, fold(words)
        db.session.execute(delete(Message).where(Message.id.in_([indexed_gone, waiting_gone])))
        db.session.commit()

    assert found(app, "pineapple") == ["pineapple"]
    assert found(app, "blueberry") == ["blueberry"]
    assert found(app, "indexed") == found(app, "waiting") == []
    with app.app_context():
        assert db.session.scalar(select(Message.id).where(Message.id == waiting_gone)) is None
    check_integrity(app)


def test_reindex_rebuilds_an_index_that_went_wrong(app):
    ids = post(app, "release checklist", 3)
    assert found(app, "checklist")
    with app.app_context():  # the index loses a message behind the triggers' back
        db.session.execute(text("INSERT INTO messages_search(messages_search, rowid, search_text) "
                                "VALUES ('delete', :id, :text)"),
                           {"id": ids[0], "text": fold("release checklist 0")})
        db.session.commit()
    assert found(app, "checklist") == ["release checklist 2", "release checklist 1"]
    post(app, "waiting", 1)  # and one waits behind the mark

    done = app.test_cli_runner().invoke(args=["chat", "reindex"])
    assert done.exit_code == 0, done.output
    assert "rebuilt" in done.output
    assert found(app, "checklist") == [f"release checklist {i}" for i in (2, 1, 0)]
    assert found(app, "waiting") == ["waiting 0"]
    check_integrity(app)

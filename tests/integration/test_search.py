"""Search behaves the same on SQLite (FTS5 trigram) and PostgreSQL (pg_trgm): every test here
runs on both (``database_url``). What people expect of a search box, and who finds what.
"""
from __future__ import annotations

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from webapp import accounts
from webapp.chat import changes, ops, rooms, search, service
from webapp.errors import AppError
from webapp.extensions import db


@pytest.fixture
def people(db_app):
    upgrade()
    db_app.config["RATE_LIMIT_SEARCH"] = "1000 per minute"

    def person(name: str, sid: str | None = None) -> service.Member:
        user = accounts.find_user(name) or accounts.create_user(name, "long enough password")
        return service.connect(None, sid or f"sid-{name}", user=user)
    return person


def say(member: service.Member, room: str, words: str, **more) -> dict:
    service.join(member, {"room": room})
    return ops.post(member, {"room": room, "text": words, **more})[0]["message"]


def found(member: service.Member, query: str, **filters) -> list[str]:
    return [r["message"]["text"] for r in search.search(member, {"q": query, **filters})["results"]]


def test_words_in_any_order_parts_of_words_phrases_case_accents_and_scripts(people):
    alice = people("alice")
    for words in ("We redeployed the API server", "Deploy failed: disk full",
                  "Le café est prêt", "東京で会議があります", "ＦＵＬＬ width letters",
                  "server deploy done"):
        say(alice, "general", words)
    assert found(alice, "deploy") == ["server deploy done", "Deploy failed: disk full",
                                      "We redeployed the API server"]  # newest first
    assert found(alice, "server deploy") == ["server deploy done", "We redeployed the API server"]
    assert found(alice, '"deploy failed"') == ["Deploy failed: disk full"]
    assert found(alice, '"failed deploy"') == []
    assert found(alice, "CAFE PRÊT") == ["Le café est prêt"]
    assert found(alice, "会議") == ["東京で会議があります"]
    assert found(alice, "full width") == ["ＦＵＬＬ width letters"]
    assert found(alice, "nothing-like-this") == []
    assert found(alice, "100%") == [] and found(alice, "a_b") == []  # LIKE's own characters


def test_highlights_point_into_the_text_as_written(people):
    alice = people("alice")
    say(alice, "general", "Café, CAFÉ, ｃａｆｅ and Cafe\u0301")  # the last: e + a combining accent
    [result] = search.search(alice, {"q": "cafe"})["results"]
    words = result["message"]["text"]
    assert [words[a:b] for a, b in result["highlight"]] == ["Café", "CAFÉ", "ｃａｆｅ",
                                                              "Cafe\u0301"]


def test_only_rooms_the_caller_may_read_today(people):
    owner, friend, stranger = people("owner"), people("friend"), people("stranger")
    rooms.create_room(owner, {"room": "secret", "private": True})
    rooms.invite(owner, {"room": "secret", "user": "friend"})
    say(owner, "secret", "the launch code is swordfish")
    say(owner, "general", "swordfish for lunch")
    assert found(friend, "swordfish") == ["swordfish for lunch", "the launch code is swordfish"]
    assert found(stranger, "swordfish") == ["swordfish for lunch"]
    guest = service.connect({"name": "guesty"}, "sid-guesty")
    assert found(guest, "swordfish") == ["swordfish for lunch"]
    with pytest.raises(AppError) as refused:
        search.search(stranger, {"q": "swordfish", "room": "secret"})
    assert refused.value.code == "not_found"  # as for a room that does not exist
    rooms.kick(owner, {"room": "secret", "user": "friend"})
    assert found(friend, "swordfish") == ["swordfish for lunch"]


def test_deleted_never_found_and_edited_by_the_current_text_only(people):
    alice = people("alice")
    gone = say(alice, "general", "a secret recipe")
    kept = say(alice, "general", "a plain recipe")
    changes.delete_message(alice, {"room": "general", "id": gone["id"]})
    changes.edit(alice, {"room": "general", "id": kept["id"], "text": "a family dish"})
    assert found(alice, "recipe") == []
    assert found(alice, "family") == ["a family dish"]


def test_filters_and_pages(people):
    alice, bob = people("alice"), people("bob")
    for i in range(5):
        say(alice if i % 2 else bob, "general", f"standup note {i}")
    say(alice, "random", "standup elsewhere")
    assert found(alice, "standup", room="random") == ["standup elsewhere"]
    assert found(alice, "standup", author="bob") == ["standup note 4", "standup note 2",
                                                      "standup note 0"]
    first = search.search(alice, {"q": "standup", "limit": 2})
    assert [r["message"]["text"] for r in first["results"]] == ["standup elsewhere",
                                                                "standup note 4"]
    second = search.search(alice, {"q": "standup", "limit": 10, "cursor": first["cursor"]})
    assert [r["message"]["text"] for r in second["results"]] == [
        "standup note 3", "standup note 2", "standup note 1", "standup note 0"]
    assert second["cursor"] is None
    assert found(alice, "standup", after="2999-01-01") == []
    assert len(found(alice, "standup", before="2999-01-01T00:00:00Z")) == 6


@pytest.mark.parametrize("bad", [
    {}, {"q": ""}, {"q": "   "}, {"q": 5}, {"q": "x" * 201}, {"q": '""'},
    {"q": "a", "limit": 0}, {"q": "a", "limit": 101}, {"q": "a", "cursor": "9"},
    {"q": "a", "before": "yesterday"}, {"q": "a", "after": 20261130}, {"q": "a", "room": "NO!"},
])
def test_bad_searches_get_a_clear_error(people, bad):
    alice = people("alice")
    with pytest.raises(AppError) as refused:
        search.search(alice, bad)
    assert refused.value.code in {"invalid_payload", "invalid_room"}


def test_the_migration_indexes_what_was_there(people):
    alice = people("alice")
    say(alice, "general", "Déjà vu from before the index")
    db.session.remove()  # its transaction would hold PostgreSQL's DROP INDEX up
    downgrade(revision="0006")
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE messages SET text = 'Déjà vu, written before search'"))
    upgrade()
    assert found(alice, "deja vu") == ["Déjà vu, written before search"]


def test_reindex_builds_the_index_again_and_search_goes_on(people, db_app):
    alice = people("alice")
    for words in ("rebuild the index", "index rebuilt", "nothing to see"):
        say(alice, "general", words)
    db.session.remove()  # PostgreSQL's REINDEX waits for open transactions on messages
    done = db_app.test_cli_runner().invoke(args=["chat", "reindex"])
    assert done.exit_code == 0, done.output
    assert "rebuilt the" in done.output
    assert found(alice, "index") == ["index rebuilt", "rebuild the index"]
    say(alice, "general", "after the index was rebuilt")
    assert found(alice, "rebuilt") == ["after the index was rebuilt", "index rebuilt"]

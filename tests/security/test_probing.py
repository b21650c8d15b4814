"""Probing for DMs and private rooms: a non-member gets the same answer whether one exists or not.

Attacks tried on the real server, by a registered outsider and by a guest: ``join``,
``create_room``, ``invite`` and ``kick`` naming a DM and a private room that exist, and names that
do not; over REST, reading and posting their messages. Each pair of answers must be identical
(the name aside): "dm-3-7 exists" would tell that users 3 and 7 talk.
"""
import json

import pytest
import requests

from tests.support import ChatClient, unique

pytestmark = pytest.mark.e2e

PASSWORD = "a long password here"


@pytest.fixture(scope="module")
def world(live_server):
    """Alice and Bob have a DM with a message in it; Alice owns a private room; Carol is out."""
    names = {role: unique(role) for role in ("alice", "bob", "carol")}
    tokens = {}
    for role, name in names.items():
        live_server.flask("users", "create", name, "--password", PASSWORD)
        tokens[role] = live_server.flask("tokens", "create", name, "probe")
    alice = ChatClient(live_server.url, names["alice"]).connect(token=tokens["alice"])
    dm = alice.call("dm", {"user": names["bob"]})["room"]["name"]
    vault = unique("vault")
    assert alice.call("create_room", {"room": vault, "private": True})["ok"]
    for room in (dm, vault):
        assert alice.call("join", {"room": room})["ok"]
        assert alice.call("message", {"room": room, "text": "between us"})["ok"]
    alice.close()
    _, low, high = dm.split("-")
    return {
        "names": names, "tokens": tokens, "dm": dm, "vault": vault,
        # shaped like a DM, between users that have none (the second does not even exist)
        "absent_dm": f"dm-{low}-{int(high) + 1_000_000}",
        "absent_room": unique("nothing"),
    }


def same_answer(answers: dict[str, object]) -> None:
    """The answers for each name, with the name itself blanked out, are all one."""
    shapes = {json.dumps(answer, sort_keys=True).replace(name, "<room>") for name, answer in answers.items()}
    assert len(shapes) == 1, answers
    assert "between us" not in shapes.pop()


@pytest.fixture(params=["outsider", "guest"])
def prober(request, live_server, world):
    if request.param == "outsider":
        client = ChatClient(live_server.url, "carol").connect(token=world["tokens"]["carol"])
    else:
        client = ChatClient(live_server.url, unique("guest")).connect()
    yield client
    client.close()


def test_socket_answers_do_not_tell_whether_a_dm_exists(world, prober):
    dm, absent = world["dm"], world["absent_dm"]
    same_answer({name: prober.call("join", {"room": name}) for name in (dm, absent)})
    same_answer({name: prober.call("create_room", {"room": name}) for name in (dm, absent)})
    same_answer({
        name: prober.call("create_room", {"room": name, "private": True}) for name in (dm, absent)
    })
    assert prober.call("join", {"room": dm})["error"]["code"] == "forbidden"


def test_owner_actions_do_not_tell_whether_a_room_exists(world, prober):
    bob = world["names"]["bob"]
    for event in ("invite", "kick"):
        same_answer({
            name: prober.call(event, {"room": name, "user": bob})
            for name in (world["vault"], world["dm"], world["absent_room"], world["absent_dm"])
        })


def test_rest_answers_do_not_tell_whether_a_room_exists(live_server, world):
    headers = {"Authorization": f"Bearer {world['tokens']['carol']}"}
    names = (world["dm"], world["vault"], world["absent_dm"], world["absent_room"])

    def answer(response: requests.Response) -> dict:
        return {"status": response.status_code, "body": response.json()}

    reads = {
        name: answer(requests.get(f"{live_server.url}/api/rooms/{name}/messages", headers=headers, timeout=10))
        for name in names
    }
    same_answer(reads)
    assert reads[world["dm"]]["status"] == 404
    same_answer({
        name: answer(requests.post(
            f"{live_server.url}/api/rooms/{name}/messages", json={"text": "probe"}, headers=headers,
            timeout=10,
        ))
        for name in names
    })


def test_members_still_get_in_and_probes_created_nothing(live_server, world, prober):
    prober.call("join", {"room": world["absent_dm"]})  # a free name would be created: see docs
    for event in ("invite", "kick"):
        for name in (world["absent_dm"], world["absent_room"]):
            prober.call(event, {"room": name, "user": world["names"]["bob"]})
    listed = requests.get(f"{live_server.url}/api/rooms", timeout=10).json()["rooms"]
    assert not {world["absent_dm"], world["absent_room"]} & {room["name"] for room in listed}
    bob = ChatClient(live_server.url, world["names"]["bob"]).connect(token=world["tokens"]["bob"])
    ack = bob.call("join", {"room": world["dm"]})
    assert ack["ok"] and [m["text"] for m in ack["history"]] == ["between us"]
    bob.close()

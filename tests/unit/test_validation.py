"""Field checks: every bad value is refused with its code, every good one passes unchanged."""
import pytest

from webapp import validation as v
from webapp.errors import InvalidPayload


@pytest.mark.parametrize("name", ["a", "Alice_99", "x" * 32, "with-dash"])
def test_good_nicknames(name):
    assert v.nickname(name) == name


@pytest.mark.parametrize(
    "name", ["", "x" * 33, "x" * 10_000, "has space", "é", "bob\x00", "<b>", None, 42, ["a"], True]
)
def test_bad_nicknames(name):
    with pytest.raises(InvalidPayload) as err:
        v.nickname(name)
    assert err.value.code == "invalid_name"


@pytest.mark.parametrize("room", ["general", "a", "r" * 64, "dev-ops_2"])
def test_good_rooms(room):
    assert v.room_name({"room": room}) == room


@pytest.mark.parametrize("room", ["", "General", "r" * 65, "a b", "a/b", "\u202eevil", None, 1, {}])
def test_bad_rooms(room):
    with pytest.raises(InvalidPayload) as err:
        v.room_name({"room": room})
    assert err.value.code == "invalid_room"


def test_text_is_kept_as_sent_but_judged_trimmed():
    assert v.text({"text": "  hi  "}) == "  hi  "
    assert v.text({"text": "x" * 4000}) == "x" * 4000
    assert v.text({"text": " " + "x" * 4000 + "\n"}) == " " + "x" * 4000 + "\n"


@pytest.mark.parametrize("text", ["", "   \n\t", "x" * 4001, "a\x00b", "lone \ud800", None, 5, ["hi"], b"hi"])
def test_bad_text(text):
    with pytest.raises(InvalidPayload) as err:
        v.text({"text": text})
    assert err.value.code == "invalid_text"


@pytest.mark.parametrize("value", [True, "5", 0, 101, 2**70, 1.5])
def test_limit_must_be_an_integer_in_range(value):
    with pytest.raises(InvalidPayload):
        v.optional_int({"limit": value}, "limit", 1, 100)


def test_optional_int_default_and_value():
    assert v.optional_int({}, "limit", 1, 100, default=50) == 50
    assert v.optional_int({"limit": 7}, "limit", 1, 100) == 7


@pytest.mark.parametrize("cid", ["", "x" * 65, "has space", 12, {"a": 1}])
def test_bad_client_ids(cid):
    with pytest.raises(InvalidPayload) as err:
        v.client_id({"client_id": cid})
    assert err.value.code == "invalid_client_id"


@pytest.mark.parametrize("data", [None, "text", 3, ["room"], b"bytes"])
def test_payload_must_be_an_object(data):
    with pytest.raises(InvalidPayload):
        v.payload(data)

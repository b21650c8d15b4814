"""examples/parley_client.py's read state against the real server (issue 18): ``read`` on one
client of an account reaches the account's other client (``on_read``), and a DM's other member
learns how far it was read (``on_receipt``, ``receipts``)."""
from __future__ import annotations

from examples.parley_client import ParleyClient
from tests.delivery.support import database_app, make_tokens
from tests.support import eventually, unique


def test_reads_reach_the_accounts_other_client_and_the_dm(live_server):
    app = database_app(live_server.env["DATABASE_URL"])
    alice, bob = unique("alice"), unique("bob")
    tokens = make_tokens(app, [alice, bob])
    clients = [ParleyClient(transports=["websocket"]) for _ in range(3)]
    laptop, phone, other = clients
    heard, receipts = [], []
    phone.on_read(heard.append)
    other.on_receipt(receipts.append)
    try:
        for client, token in zip(clients, (tokens[alice], tokens[alice], tokens[bob]), strict=True):
            client.connect(live_server.url, {"token": token})
        room = other._request("dm", {"user": alice}, 10)["room"]["name"]
        for client in clients:
            client.join(room)
        sent = [other.send(room, f"hello {i}") for i in range(2)]
        answer = laptop.read(room, id=sent[0]["id"])
        assert answer == {"room": room, "last_read": sent[0]["seq"], "unread": 1, "mentions": 0}
        assert eventually(lambda: heard == [answer], 10), heard
        assert eventually(lambda: other.receipts(room) == {alice: sent[0]["seq"]}, 10)
        assert receipts == [{"room": room, "user": alice, "last_read": sent[0]["seq"]}]
        assert phone.read(room, seq=0)["last_read"] == sent[0]["seq"]  # never back
    finally:
        for client in clients:
            client.close()

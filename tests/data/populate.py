"""A small instance with one of everything an export holds, made through the operations."""
from __future__ import annotations

import io

from webapp import accounts
from webapp.chat import files, ops, service


class Conn:
    """An operation's connection; these tests have no sockets."""

    sid = "populate"

    def subscribe(self, room: str) -> None:
        pass

    def unsubscribe(self, room: str) -> None:
        pass


def member(name: str, admin: bool = False) -> service.Member:
    user = accounts.create_user(name, "long enough password", admin=admin)
    _, token = accounts.create_token(user, "api")
    return service.connect({"token": token}, None)


def op(name: str, who: service.Member, **data) -> dict:
    ack = ops.OPS[name](who, data, Conn())
    assert ack.get("ok"), ack
    return ack


def populate() -> dict:
    """Accounts, a public and a private room, a DM, messages with an edit, a reaction, a pin, a
    reply, a deletion and a file, a ban and a block; answers the ids tests look at."""
    alice, bob = member("alice", admin=True), member("bob")
    carol = member("carol")
    op("join", alice, room="general")
    op("join", bob, room="general")
    first = op("message", alice, room="general", text="hello *world*")["message"]
    op("edit", alice, room="general", id=first["id"], text="hello world, edited")
    op("react", bob, room="general", id=first["id"], emoji="👍", on=True)
    op("pin", alice, room="general", id=first["id"], on=True)
    op("message", bob, room="general", text="a reply", reply_to=first["id"])
    gone = op("message", bob, room="general", text="oops")["message"]
    op("delete_message", bob, room="general", id=gone["id"])
    upload = files.upload(bob, "general", io.BytesIO(b"file bytes\n" * 100), "notes.txt")
    op("message", bob, room="general", text="see file", files=[upload["id"]])
    op("create_room", alice, room="secret", private=True)
    op("invite", alice, room="secret", user="bob")
    op("message", alice, room="secret", text="private words")
    op("dm", alice, user="bob")
    op("block", carol, user="bob", on=True)
    op("ban", alice, user="carol", reason="testing")
    return {"message": first["id"], "file": upload["id"]}

"""A Parley bot in a few lines, over ``examples.parley_client``: it answers ``!ping`` in its rooms.

    python -m examples.bot --url http://localhost:5000 --token pt_... general random
    python -m examples.bot --name pingbot general          # as a guest (guests cannot edit)

To "!ping" it reacts 👀 at once, answers "pong, <name>", and -- with a token -- edits its answer
to add how long the answer took to be stored: "pong, alice (12 ms)".

The client does the hard parts (docs/delivery.md): reconnects, rejoins and catches up, retries
sends without duplicates, and hands each message to ``on_message`` once, in order. Callbacks
must not block, so the bot uses ``wait=False`` and ``then``: each call goes into the client's
outbox, in order, and ``then`` runs once the server has answered.
"""
from __future__ import annotations

import argparse
import threading
import time

from examples.parley_client import ParleyClient


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rooms", nargs="*", default=["general"])
    parser.add_argument("--url", default="http://localhost:5000")
    who = parser.add_mutually_exclusive_group()
    who.add_argument("--token", help="an API token (settings page); the bot posts as its owner")
    who.add_argument("--name", default="pingbot", help="a guest nickname (without --token)")
    parser.add_argument("--for", dest="seconds", type=float, default=None,
                        help="stop after this many seconds (default: run until interrupted)")
    args = parser.parse_args(argv)

    client = ParleyClient()
    me = args.name if args.token is None else None

    def on_message(message: dict) -> None:
        if message["text"].strip() != "!ping" or message["author"] == me:
            return
        room, asked = message["room"], time.monotonic()
        client.react(room, message["id"], "👀", wait=False)
        answer = client.send_nowait(room, f"pong, {message['author']}")
        if args.token:  # only accounts edit their messages
            answer.then(lambda pong: client.edit(
                room, pong["id"], f"{pong['text']} ({(time.monotonic() - asked) * 1000:.0f} ms)",
                wait=False))

    client.on("message", on_message)
    client.connect(args.url, auth={"token": args.token} if args.token else {"name": args.name})
    for room in args.rooms:
        client.join(room)
    print(f"listening in {', '.join(args.rooms)}", flush=True)
    try:
        threading.Event().wait(args.seconds)
    except KeyboardInterrupt:
        pass
    client.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

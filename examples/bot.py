"""A Parley bot in a few lines, over ``examples.parley_client``: it answers ``!ping`` in its rooms.

    python -m examples.bot --url http://localhost:5000 --token pt_... general random
    python -m examples.bot --name pingbot general          # as a guest

The client does the hard parts (docs/delivery.md): reconnects, rejoins and catches up, retries
sends without duplicates, and hands each message to ``on_message`` once, in order.
"""
from __future__ import annotations

import argparse
import threading

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
        if message["text"].strip() == "!ping" and message["author"] != me:
            client.send_nowait(message["room"], f"pong, {message['author']}")

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

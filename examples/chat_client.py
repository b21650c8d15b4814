"""A minimal Parley bot: connect as a guest, join a room, send a message, print what arrives.

    python examples/chat_client.py --url http://localhost:5000 --name bot --room general "Hello!"

It uses only python-socketio's client and the public event API in docs/protocol.md.
"""
from __future__ import annotations

import argparse
import sys
import threading
import uuid

import socketio


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("text", nargs="?", default="Hello from a script!")
    parser.add_argument("--url", default="http://localhost:5000")
    parser.add_argument("--name", default=f"bot-{uuid.uuid4().hex[:6]}")
    parser.add_argument("--room", default="general")
    parser.add_argument("--listen", type=float, default=2.0, help="seconds to print events after sending")
    args = parser.parse_args(argv)

    sio = socketio.Client()
    mine = threading.Event()
    client_id = uuid.uuid4().hex

    @sio.on("message")
    def on_message(msg):
        print(f"[{msg['room']}] #{msg['id']} {msg['author']}: {msg['text']}", flush=True)
        if msg["client_id"] == client_id:
            mine.set()

    @sio.on("presence")
    def on_presence(event):
        print(f"[{event['room']}] {event['user']} {event['event']}s; here: {', '.join(event['members'])}")

    @sio.on("typing")
    def on_typing(event):
        if event["typing"]:
            print(f"[{event['room']}] {event['user']} is typing...")

    try:
        sio.connect(args.url, auth={"name": args.name}, wait_timeout=10)
    except socketio.exceptions.ConnectionError as exc:
        print(f"could not connect: {exc}", file=sys.stderr)
        return 1

    joined = sio.call("join", {"room": args.room}, timeout=10)
    if not joined["ok"]:
        print(f"join failed: {joined['error']}", file=sys.stderr)
        return 1
    for msg in joined["history"][-10:]:
        print(f"[{args.room}] #{msg['id']} {msg['author']}: {msg['text']} (history)")

    sent = sio.call("message", {"room": args.room, "text": args.text, "client_id": client_id}, timeout=10)
    if not sent["ok"]:
        print(f"send failed: {sent['error']}", file=sys.stderr)
        return 1
    mine.wait(timeout=10)  # our own message comes back like everyone else's
    sio.sleep(args.listen)
    sio.disconnect()
    return 0


if __name__ == "__main__":
    sys.exit(main())

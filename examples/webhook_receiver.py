"""A receiver of Parley's outgoing webhooks and custom slash commands, with only the standard
library: it checks each request's signature and age, drops repeated deliveries, prints messages,
and answers a command.

    python examples/webhook_receiver.py --port 8081 --secret <the secret Parley showed>

Register http://<this host>:8081/ as the room's webhook (or as a command's URL). The checks are
the ones docs/api.md describes ("Verifying a delivery").
"""
from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_AGE = 300  # seconds: an older (or replayed) request is refused


def verified(secret: str, timestamp: str, signature: str, body: bytes) -> bool:
    """Whether ``signature`` is Parley's for this body and timestamp, and the request is fresh."""
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    fresh = timestamp.isdigit() and abs(time.time() - int(timestamp)) < MAX_AGE
    return fresh and hmac.compare_digest(signature, "sha256=" + expected.hexdigest())


def handler(secret: str):
    seen: set[str] = set()  # delivery ids already handled (keep them in a database for real)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if not verified(secret, self.headers.get("X-Parley-Timestamp", ""),
                            self.headers.get("X-Parley-Signature", ""), body):
                return self.answer(401, {"error": "bad signature"})
            payload = json.loads(body)
            if "command" in payload:  # a custom slash command: answer in the room
                who = payload["user"]["name"]
                return self.answer(200, {"response_type": "in_channel",
                                         "text": f"{who} asked {payload['command']}: {payload['text']}"})
            delivery = self.headers["X-Parley-Delivery"]
            if delivery not in seen:  # a retry of one already handled is only acknowledged
                seen.add(delivery)
                message = payload["message"]
                print(f"#{payload['room']} {message['author']}: {message['text']}", flush=True)
            return self.answer(200, {"ok": True})

        def answer(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):  # the prints above are the log
            pass

    return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--secret", required=True)
    args = parser.parse_args(argv)
    server = ThreadingHTTPServer((args.host, args.port), handler(args.secret))
    print(f"listening on http://{args.host}:{server.server_address[1]}/", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""A real HTTP receiver on loopback for integration tests: it records every request, checks its
signature the way docs/api.md tells receivers to, and answers as the test says."""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    """``Receiver(answers)``: ``url``, ``requests`` (dicts), ``answers``: a list of (status, body)
    each delivery (or, without a delivery id, the receiver) meets in turn, the last one again
    and again."""

    def __init__(self, answers: list[tuple[int, object]] | None = None) -> None:
        self.answers = answers or [(200, "ok")]
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.requests.append({"headers": dict(self.headers), "body": body,
                                              "json": json.loads(body), "path": self.path})
                    # Per delivery: each one meets the answers in turn (its attempts).
                    delivery = self.headers.get("X-Parley-Delivery")
                    seen = sum(1 for r in receiver.requests
                               if r["headers"].get("X-Parley-Delivery") == delivery)
                    index = min(seen, len(receiver.answers)) - 1
                    status, answer = receiver.answers[index]
                data = answer if isinstance(answer, bytes) else (
                    answer.encode() if isinstance(answer, str) else json.dumps(answer).encode())
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        return Handler

    def signed(self, request: dict, secret: str) -> bool:
        """Whether ``request`` carries the signature its body and timestamp should have."""
        timestamp = request["headers"]["X-Parley-Timestamp"]
        expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + request["body"],
                            hashlib.sha256).hexdigest()
        return hmac.compare_digest(request["headers"]["X-Parley-Signature"], f"sha256={expected}")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

"""A Web Push service on loopback for the notification tests: it checks each push the way a real
one does (the VAPID JWT: signature, aud, exp), and decrypts it (aes128gcm) with the private key
of the subscription it handed out, as the browser would.

    with PushService(vapid_public_key) as service:
        subscription = service.subscribe()   # the browser's PushSubscription JSON
        push = service.wait_for(lambda p: p["payload"]["room"] == room)
"""
from __future__ import annotations

import base64
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class PushService:
    """Loopback HTTP server; ``answers`` (a list of statuses) are used up first, then 201."""

    def __init__(self, vapid_public_key: str) -> None:
        self.vapid_public_key = vapid_public_key
        self.received: list[dict] = []  # {"subscription", "payload", "headers"}, in order
        self.refused: list[str] = []  # why a push was not accepted (a bug in the sender)
        self.answers: list[int] = []
        self.lock = threading.Lock()
        self.keys: dict[str, tuple[ec.EllipticCurvePrivateKey, bytes]] = {}
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def subscribe(self) -> dict:
        """A new subscription, as a browser's PushSubscription.toJSON() gives it."""
        name = b64url(os.urandom(9))
        key, auth = ec.generate_private_key(ec.SECP256R1()), os.urandom(16)
        self.keys[name] = (key, auth)
        public = key.public_key().public_bytes(serialization.Encoding.X962,
                                               serialization.PublicFormat.UncompressedPoint)
        return {"endpoint": f"{self.url}/push/{name}", "expirationTime": None,
                "keys": {"p256dh": b64url(public), "auth": b64url(auth)}}

    def count(self) -> int:
        with self.lock:
            return len(self.received)

    def wait_for(self, predicate=lambda push: True, timeout: float = 30.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                found = [p for p in self.received if predicate(p)]
            if found:
                return found[0]
            time.sleep(0.05)
        raise TimeoutError(f"no matching push within {timeout}s (refused: {self.refused})")

    def __enter__(self) -> Self:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def check(self, name: str, headers, body: bytes) -> dict:
        """The decrypted payload; AssertionError when the push is not a valid one."""
        assert name in self.keys, f"unknown subscription {name}"
        scheme, _, params = headers["Authorization"].partition(" ")
        assert scheme == "vapid", scheme
        parts = dict(item.split("=", 1) for item in params.split(","))
        assert parts["k"] == self.vapid_public_key, "not the server's VAPID key"
        signed, _, signature = parts["t"].rpartition(".")
        raw = unb64url(signature)
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(parts["k"]))
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        try:
            public.verify(der, signed.encode(), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            raise AssertionError("bad VAPID signature") from None
        claims = json.loads(unb64url(signed.split(".")[1]))
        assert claims["aud"] == self.url, claims
        assert time.time() < claims["exp"] <= time.time() + 24 * 3600, claims
        assert claims["sub"].startswith(("mailto:", "https:")), claims
        assert headers["Content-Encoding"] == "aes128gcm"
        assert int(headers["TTL"]) > 0
        key, auth = self.keys[name]
        return json.loads(http_ece.decrypt(body, private_key=key, auth_secret=auth,
                                           version="aes128gcm"))

    def _handler(self):
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                name = self.path.rsplit("/", 1)[-1]
                with service.lock:
                    status = service.answers.pop(0) if service.answers else 201
                try:
                    payload = service.check(name, self.headers, body)
                except Exception as exc:  # noqa: BLE001 - recorded for the test to show
                    service.refused.append(repr(exc))
                    status = 400
                else:
                    if status == 201:
                        with service.lock:
                            service.received.append({"subscription": name, "payload": payload,
                                                     "headers": dict(self.headers)})
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        return Handler

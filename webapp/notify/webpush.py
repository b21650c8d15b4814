"""Standard Web Push: one encrypted message (RFC 8291, aes128gcm) to one browser subscription,
authorized with VAPID (RFC 8292).

``prepare`` does the CPU work (an ECDH key agreement, AES-GCM, an ECDSA signature) and runs in a
native thread (webapp/server/offload.run_blocking); ``post`` only waits on the network, which
under eventlet is a green wait.
"""
from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Mapping
from urllib.parse import urlsplit

import http_ece
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02

# How long the push service keeps a message for a browser that is offline: a day-old mention
# is still worth a look, an older one is in the digest.
TTL_SECONDS = 24 * 3600
JWT_SECONDS = 12 * 3600  # a VAPID token's lifetime (RFC 8292 allows at most 24 hours)


class PushError(Exception):
    """The push service could not be reached; worth trying again later."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def generate_keys() -> tuple[str, str]:
    """A new VAPID key pair: (private key, public key), base64url as browsers and tools use."""
    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_numbers().private_value.to_bytes(32, "big")
    return b64url(private), _public(key)


def _public(key: ec.EllipticCurvePrivateKey) -> str:
    return b64url(key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))


def enabled(config: Mapping) -> bool:
    return bool(config.get("VAPID_PRIVATE_KEY"))


def public_key(config: Mapping) -> str | None:
    """The application server key the page subscribes with (None: push is off)."""
    if not enabled(config):
        return None
    return config.get("VAPID_PUBLIC_KEY") or _public(Vapid02.from_raw(
        config["VAPID_PRIVATE_KEY"].encode()).private_key)


def prepare(config: Mapping, endpoint: str, p256dh: str, auth: str, payload: dict,
            topic: str | None = None) -> tuple[bytes, dict]:
    """The encrypted body and the headers of one push (CPU-bound: run it off the event loop)."""
    body = http_ece.encrypt(
        json.dumps(payload, separators=(",", ":")).encode(),
        salt=os.urandom(16),
        private_key=ec.generate_private_key(ec.SECP256R1()),  # one-time key per message
        dh=unb64url(p256dh),
        auth_secret=unb64url(auth),
        version="aes128gcm",
    )
    parts = urlsplit(endpoint)
    vapid = Vapid02.from_raw(config["VAPID_PRIVATE_KEY"].encode())
    headers = vapid.sign({"aud": f"{parts.scheme}://{parts.netloc}",
                          "exp": int(time.time()) + JWT_SECONDS,
                          "sub": config["VAPID_SUBJECT"]})
    headers.update({"Content-Encoding": "aes128gcm", "Content-Type": "application/octet-stream",
                    "TTL": str(TTL_SECONDS), "Urgency": "high"})
    if topic:  # a resend after a lost answer replaces the first one in the push service's queue
        headers["Topic"] = topic
    return body, headers


def post(config: Mapping, endpoint: str, body: bytes, headers: dict) -> int:
    """POST one prepared push; answers the push service's status (201: accepted)."""
    try:
        response = requests.post(endpoint, data=body, headers=headers,
                                 timeout=config["PUSH_TIMEOUT"])
    except requests.RequestException as exc:
        raise PushError(str(exc)) from exc
    return response.status_code

"""Signed POSTs to integration targets: ``X-Parley-Signature``, and the request itself.

The signature is HMAC-SHA256, keyed with the webhook's (or command's) secret, over
``"<timestamp>.<body>"``; a receiver recomputes it and compares, and refuses a timestamp far from
its clock so a recorded request cannot be replayed later (docs/api.md, "Verifying a delivery").
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

import urllib3

from webapp.integrations.ssrf import Target

# Only so much of an answer is read: a command's reply is one message, a webhook's is ignored.
MAX_ANSWER = 64 * 1024
USER_AGENT = "Parley-Integrations/1"


def new_secret() -> str:
    return secrets.token_hex(24)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256(secret, "<timestamp>.<body>")."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


@dataclass
class Answer:
    status: int
    body: bytes


def post(target: Target, payload: dict, secret: str, timeout: float,
         headers: dict | None = None) -> Answer:
    """POST ``payload`` as signed JSON to ``target``'s checked address; no redirect followed.

    Raises urllib3's errors (HTTPError) on connection failures and timeouts.
    """
    body = json.dumps(payload, separators=(",", ":")).encode()
    timestamp = int(time.time())
    default_port = 443 if target.scheme == "https" else 80
    host = target.host if ":" not in target.host else f"[{target.host}]"
    sent = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Host": host if target.port == default_port else f"{host}:{target.port}",
        "X-Parley-Timestamp": str(timestamp),
        "X-Parley-Signature": signature(secret, timestamp, body),
        **(headers or {}),
    }
    pool_options = {"timeout": urllib3.Timeout(connect=timeout, read=timeout), "retries": False,
                    "maxsize": 1}
    if target.scheme == "https":
        # Connect to the checked address; verify the certificate for the name written.
        pool = urllib3.HTTPSConnectionPool(target.address, target.port, server_hostname=target.host,
                                           assert_hostname=target.host, **pool_options)
    else:
        pool = urllib3.HTTPConnectionPool(target.address, target.port, **pool_options)
    try:
        response = pool.urlopen("POST", target.path, body=body, headers=sent, redirect=False,
                                preload_content=False, assert_same_host=False)
        try:
            return Answer(response.status, response.read(MAX_ANSWER))
        finally:
            response.release_conn()
    finally:
        pool.close()

"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for e-mail tests.

    with Mailbox() as mailbox:
        app = create_app({..., **mailbox.config})
        ...
        message = mailbox.wait_for(lambda m: m["To"] == "bob@example.com")
"""
from __future__ import annotations

import email
import email.policy
import threading
import time
from email.message import EmailMessage
from typing import Self

from aiosmtpd.controller import Controller

from tests.support import free_port


class _Keep:
    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox

    async def handle_DATA(self, server, session, envelope):
        if self.mailbox.refuse:
            return "451 Try again later"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.mailbox.lock:
            self.mailbox.messages.append(message)
        return "250 OK"


class Mailbox:
    """An SMTP server on 127.0.0.1 and the messages it accepted, oldest first."""

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[EmailMessage] = []
        self.lock = threading.Lock()
        self.refuse = False  # True: answer every message with a temporary failure
        self._controller = Controller(_Keep(self), hostname="127.0.0.1", port=self.port)

    @property
    def config(self) -> dict:
        """The settings that point Parley at this server (no TLS: it is loopback)."""
        return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": self.port, "SMTP_SECURITY": "none",
                "MAIL_FROM": "Parley <parley@example.test>"}

    @property
    def env(self) -> dict:
        """The same as environment variables, for a LiveServer."""
        return {key: str(value) for key, value in self.config.items()}

    def __enter__(self) -> Self:
        self._controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self._controller.stop()

    def wait_for(self, match=lambda message: True, timeout: float = 10.0) -> EmailMessage:
        """The first message ``match`` accepts; AssertionError after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                for message in self.messages:
                    if match(message):
                        return message
            time.sleep(0.05)
        raise AssertionError(f"no matching e-mail within {timeout} s; got {len(self.messages)}")

    def count(self, match=lambda message: True) -> int:
        with self.lock:
            return sum(1 for message in self.messages if match(message))

"""Outgoing e-mail over SMTP: digests of what one missed, password resets, invitations.

Off unless SMTP_HOST is set (``enabled``). ``send`` talks to the server and waits for its answer,
so callers run it where waiting is fine: a background duty or a request that reports the
outcome, never in the middle of an ack. Under eventlet smtplib's socket is green: the wait
yields to other connections.
"""
from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate, make_msgid


class MailError(Exception):
    """The SMTP server could not be reached or refused the message; worth trying again later."""


def enabled(config: Mapping) -> bool:
    return bool(config.get("SMTP_HOST"))


def compose(config: Mapping, to: str, subject: str, text: str, *, html: str | None = None,
            headers: Mapping[str, str] | None = None) -> EmailMessage:
    """The message as it will be sent: plain text, with an HTML alternative when given."""
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="parley")
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


def send(config: Mapping, to: str, subject: str, text: str, *, html: str | None = None,
         headers: Mapping[str, str] | None = None) -> None:
    """Deliver one message to the SMTP server; ``MailError`` if that fails (retry later)."""
    if not enabled(config):
        raise MailError("e-mail is not configured (SMTP_HOST)")
    message = compose(config, to, subject, text, html=html, headers=headers)
    host, port, timeout = config["SMTP_HOST"], config["SMTP_PORT"], config["SMTP_TIMEOUT"]
    security = config["SMTP_SECURITY"]
    try:
        if security == "ssl":
            smtp = smtplib.SMTP_SSL(host, port, timeout=timeout,
                                    context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(host, port, timeout=timeout)
        with smtp:
            if security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if config.get("SMTP_USERNAME"):
                smtp.login(config["SMTP_USERNAME"], config.get("SMTP_PASSWORD") or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:  # refused, unreachable, timed out
        raise MailError(f"{host}:{port}: {exc}") from exc

"""Incoming webhooks: ``POST /hooks/<token>`` with Slack's JSON posts to the hook's room.

Compatible with what tools send to Slack's incoming webhooks (CI, monitoring): ``text``,
``username`` (shown with the message; the author stays the hook's name), ``blocks`` (section,
header and context text), as a JSON body or a form's ``payload=`` field; the answer is Slack's
``ok``. No session and no CSRF token: the secret URL is the credential.
"""
from __future__ import annotations

import json
import re

from flask import Blueprint, request
from sqlalchemy import select

from webapp.errors import AppError, InvalidPayload, NotFound, RateLimited
from webapp.extensions import db, ratelimits
from webapp.integrations import manage, messages
from webapp.models import IncomingWebhook, Room
from webapp.validation import MAX_TEXT

bp = Blueprint("hooks", __name__)

# Slack's mrkdwn: <url|label>, <url>, and &amp; &lt; &gt; escapes; *bold* and _italic_ read fine
# as they are, and `code` is the page's own formatting already.
LINK = re.compile(r"<((?:https?|mailto):[^|>\s]+)(?:\|([^>]*))?>")
SPECIAL = re.compile(r"<[!@#]([^|>]*)(?:\|([^>]*))?>")


def mrkdwn(text: str) -> str:
    """Slack's mrkdwn as the page shows text: links as "label (url)", escapes undone."""
    text = LINK.sub(lambda m: f"{m[2]} ({m[1]})" if m[2] and m[2] != m[1] else m[1], text)
    text = SPECIAL.sub(lambda m: m[2] or m[1], text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _block_text(block: dict) -> list[str]:
    kind, lines = block.get("type"), []
    if kind in ("section", "header") and isinstance(block.get("text"), dict):
        lines.append(str(block["text"].get("text") or ""))
    if kind == "section":
        lines += [str(f.get("text") or "") for f in block.get("fields") or [] if isinstance(f, dict)]
    if kind == "context":
        lines.append(" ".join(str(e.get("text") or "") for e in block.get("elements") or []
                              if isinstance(e, dict)))
    return [line for line in lines if line]


def slack_text(payload: dict) -> str:
    """The message a Slack payload makes: its blocks' text, else (or if none) ``text``."""
    blocks = payload.get("blocks")
    lines = []
    if isinstance(blocks, list):
        for block in blocks:
            if isinstance(block, dict):
                lines += _block_text(block)
    text = "\n".join(lines) if lines else payload.get("text")
    # NUL dropped: PostgreSQL's text takes none (and no tool means one).
    text = mrkdwn(text).replace("\x00", "").strip() if isinstance(text, str) else ""
    if not text:
        raise InvalidPayload("Send 'text' (or 'blocks' with text).", code="no_text")
    return text[:MAX_TEXT - 1] + "…" if len(text) > MAX_TEXT else text


def _payload() -> dict:
    if request.mimetype == "application/json":
        body = request.get_json(silent=True)
    else:  # Slack's older form: payload=<JSON>
        try:
            body = json.loads(request.form.get("payload") or "")
        except ValueError:
            body = None
    if not isinstance(body, dict):
        raise InvalidPayload("The body must be a JSON object (or a form with payload=<JSON>).",
                             code="invalid_json")
    return body


@bp.post("/hooks/<token>")
def receive(token: str):
    hook = db.session.scalar(
        select(IncomingWebhook).where(IncomingWebhook.token_hash == manage.token_hash(token)))
    if hook is None:
        raise NotFound("No such webhook.", code="no_service")  # Slack's words for it
    if not ratelimits.hit("incoming_webhook", f"hook:{hook.id}"):
        raise RateLimited("Too many posts to this webhook; slow down.",
                          retry_after=ratelimits.retry_after("incoming_webhook", f"hook:{hook.id}"))
    payload = _payload()
    text = slack_text(payload)
    meta: dict = {"bot": True}
    username = payload.get("username")
    if isinstance(username, str) and username.strip():
        meta["username"] = username.strip()[:80]
    room = db.session.get(Room, hook.room_id)
    if room is None:  # pragma: no cover - the hook goes with its room (ON DELETE CASCADE)
        raise AppError("The room is gone.", code="no_service", status=404)
    messages.post(room.name, hook.name, text, meta)
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8"}

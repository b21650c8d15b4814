"""``flask --app wsgi import --slack export.zip``: a Slack workspace export (docs/export.md, "A
Slack workspace") into this instance: users -> accounts without a password, public channels ->
public rooms, messages with their threads, edits and reactions; files as links.
"""
from __future__ import annotations

import html
import json
import re
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import emoji
from sqlalchemy import func, select

from webapp import validation as v
from webapp.chat import search_index
from webapp.chat.folding import fold
from webapp.data.importer import ImportRefused
from webapp.extensions import db
from webapp.models import Message, Reaction, Room, User

# Notices Slack records as messages ("joined the channel", topic changes): not conversation.
KEPT_SUBTYPES = {None, "thread_broadcast", "bot_message", "file_share", "me_message"}
LINK = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")


class SlackExport:
    """The JSON files of an export, from its .zip or its unpacked folder."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.zip = zipfile.ZipFile(self.path) if zipfile.is_zipfile(self.path) else None

    def names(self) -> list[str]:
        if self.zip is not None:
            return self.zip.namelist()
        return [str(p.relative_to(self.path)) for p in self.path.rglob("*.json")]

    def load(self, name: str, default=None):
        try:
            raw = self.zip.read(name) if self.zip is not None else (self.path / name).read_bytes()
        except (KeyError, FileNotFoundError):
            if default is not None:
                return default
            raise ImportRefused(f"not a Slack export: {name} is missing") from None
        return json.loads(raw)


def import_slack(path: Path) -> dict:
    """Read the Slack export at ``path``; answers how many of each were made."""
    export = SlackExport(path)
    users = _import_users(export.load("users.json"))
    counts = {"users": len(users), "rooms": 0, "messages": 0}
    names = export.names()
    for channel in export.load("channels.json"):
        room = _room(channel)
        days = sorted(n for n in names if n.startswith(f"{channel['name']}/")
                      and n.endswith(".json"))
        messages = [m for day in days for m in export.load(day, default=[])]
        counts["messages"] += _import_messages(room, messages, users)
        counts["rooms"] += 1
        db.session.commit()
    search_index.flush()  # SQLite: index the messages now, not in the first search
    db.session.commit()
    return counts


def _free(name: str, taken, longest: int) -> str:
    """``name``, or with a suffix if ``taken(name)`` says someone has it."""
    candidate, n = name, 1
    while taken(candidate):
        n += 1
        suffix = "-slack" if n == 2 else f"-slack{n}"
        candidate = name[:longest - len(suffix)] + suffix
    return candidate


def _import_users(rows: list[dict]) -> dict[str, User]:
    """Accounts for Slack's users, by Slack id. No password: they cannot log in until one is
    set for them (or they sign in by single sign-on)."""
    made = {}
    for row in rows:
        wanted = re.sub(r"[^A-Za-z0-9_-]", "-", row.get("name") or row["id"])[:32].strip("-")
        if not v.NAME_RE.fullmatch(wanted or "") or wanted.casefold() in v.RESERVED_NAMES:
            wanted = f"slack-{row['id']}"[:32]
        name = _free(wanted, lambda n: db.session.scalar(
            select(User.id).where(User.name_key == n.casefold())) is not None, 32)
        user = User(name=name, name_key=name.casefold(), password_hash="")
        db.session.add(user)
        db.session.flush()
        made[row["id"]] = user
    return made


def _room(channel: dict) -> Room:
    wanted = re.sub(r"[^a-z0-9_-]", "-", channel["name"].lower())[:64] or f"c{channel['id']}"
    name = _free(wanted, lambda n: db.session.scalar(select(Room.id).where(Room.name == n))
                 is not None, 64)
    room = Room(name=name, kind="public", created_at=_time(channel.get("created", 0)))
    db.session.add(room)
    db.session.flush()
    return room


def _time(ts) -> datetime:
    return datetime.fromtimestamp(float(ts), UTC)


def _import_messages(room: Room, rows: list[dict], users: dict[str, User]) -> int:
    """Store the channel's messages in time order, threads as replies to their first message."""
    by_ts: dict[str, Message] = {}
    seq = room.seq
    for row in sorted(rows, key=lambda r: float(r.get("ts", 0))):
        if row.get("type") != "message" or row.get("subtype") not in KEPT_SUBTYPES:
            continue
        text = _text(row, users)
        if not text:
            continue
        user = users.get(row.get("user"))
        seq += 1
        message = Message(
            room_id=room.id, author=user.name if user else _bot_name(row), guest=False,
            user_id=user.id if user else None, text=text, search_text=fold(text),
            created_at=_time(row["ts"]), seq=seq,
            edited_at=_time(row["edited"]["ts"]) if row.get("edited") else None,
            # The kind of its latest change (webapp/chat/changes.py): readers then load its
            # reactions; all are taken to happen at once, in its seq.
            last_change="message_edited" if row.get("edited") else "message")
        root = by_ts.get(row.get("thread_ts")) if row.get("thread_ts") != row["ts"] else None
        if root is not None:
            message.reply_to = root.id
            root.reply_count = (root.reply_count or 0) + 1
            if root.last_change == "message":
                root.last_change = "replies"
        db.session.add(message)
        db.session.flush()
        by_ts[row["ts"]] = message
        _reactions(message, row.get("reactions") or [], users)
    room.seq = seq
    return db.session.scalar(select(func.count()).select_from(Message)
                             .where(Message.room_id == room.id))


def _bot_name(row: dict) -> str:
    name = re.sub(r"[^A-Za-z0-9_-]", "-", row.get("username") or "slack-bot")[:32]
    return name or "slack-bot"


def _reactions(message: Message, reactions: list[dict], users: dict[str, User]) -> None:
    for reaction in reactions:
        mark = emoji.emojize(f":{reaction.get('name', '')}:", language="alias")
        if not emoji.is_emoji(mark):  # a workspace's own emoji: no Unicode for it
            continue
        for slack_id in dict.fromkeys(reaction.get("users") or []):
            user = users.get(slack_id)
            if user is not None:
                if message.last_change == "message":
                    message.last_change = "reaction"
                db.session.add(Reaction(message_id=message.id, user_key=f"user:{user.id}",
                                        emoji=mark, user_name=user.name))


def _text(row: dict, users: dict[str, User]) -> str:
    """Slack's mrkdwn basics as plain text, the files as links; at most MAX_TEXT characters."""
    def link(match: re.Match) -> str:
        target, label = match.group(1), match.group(2)
        if target.startswith("@"):
            user = users.get(target[1:])
            return f"@{user.name}" if user else f"@{label or target[1:]}"
        if target.startswith("#"):
            return f"#{label or target[1:]}"
        if target.startswith("!"):
            return f"@{label or target[1:].split('^')[0]}"
        return f"{label} ({target})" if label and label != target else target
    text = html.unescape(LINK.sub(link, row.get("text") or ""))
    shared = [f"{f.get('name') or 'file'}: {f.get('url_private') or f.get('permalink')}"
              for f in row.get("files") or [] if f.get("url_private") or f.get("permalink")]
    text = "\n".join([text, *shared]).strip()
    return text if len(text) <= v.MAX_TEXT else text[:v.MAX_TEXT - 1] + "…"

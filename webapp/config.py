"""Configuration read from the environment (12-factor); parsing only, no logic."""
from __future__ import annotations

import os
from pathlib import Path

INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"


def _database_url(value: str | None) -> str:
    """Normalise DATABASE_URL; Heroku still hands out the deprecated ``postgres://`` scheme."""
    if not value:
        return f"sqlite:///{INSTANCE_DIR / 'parley.sqlite3'}"
    if value.startswith("postgres://"):
        value = "postgresql://" + value[len("postgres://"):]
    return value


def _list(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


class Config:
    """Settings for one deployment; every field can be set from the environment."""

    def __init__(self, env: os._Environ | dict | None = None) -> None:
        env = os.environ if env is None else env
        self.ENV = env.get("PARLEY_ENV", "development")
        self.SECRET_KEY = env.get("SECRET_KEY", "dev-only-not-secret")
        self.SQLALCHEMY_DATABASE_URI = _database_url(env.get("DATABASE_URL"))
        self.REDIS_URL = env.get("REDIS_URL") or None
        # "eventlet" is the designed server; "threading" serves tests and debugging.
        self.ASYNC_MODE = env.get("ASYNC_MODE", "eventlet")
        # Origins allowed to open Socket.IO connections besides the app's own.
        self.ALLOWED_ORIGINS = _list(env.get("ALLOWED_ORIGINS"))
        self.HOST = env.get("HOST", "127.0.0.1")
        self.PORT = int(env.get("PORT", "5000"))
        # Simultaneous connections one process accepts (eventlet's default of 1024 is too few).
        self.MAX_CONNECTIONS = int(env.get("MAX_CONNECTIONS", "20000"))
        self.LOG_LEVEL = env.get("LOG_LEVEL", "INFO")
        # 64 KiB: far above the 4,000-character text limit (16 KiB in UTF-8 at worst) and
        # small enough that a hostile client cannot make the server buffer megabytes.
        self.MAX_HTTP_BUFFER_SIZE = int(env.get("MAX_HTTP_BUFFER_SIZE", str(64 * 1024)))

    def as_dict(self) -> dict:
        return {k: v for k, v in vars(self).items() if k.isupper()}

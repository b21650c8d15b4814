"""Browser-facing hardening: response headers, cookie flags, and refusing to run without a secret."""
from __future__ import annotations

import json
import logging
from urllib.parse import parse_qs

from flask import Flask

from webapp.extensions import socketio

log = logging.getLogger(__name__)

# No inline script or style anywhere: the page loads its modules and CSS from /static.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)
DEV_SECRET = "dev-only-not-secret"


def origin_checker(allowed: list[str]):
    """Engine.IO's origin test: the page's own origin, or one on the operator's allow-list.

    Unlike Engine.IO's default it ignores client-sent X-Forwarded-* headers; behind a proxy,
    PROXY_FIX (ProxyFix, trusted hops only) has already corrected the scheme and host.
    """
    extra = frozenset(origin.rstrip("/") for origin in allowed)

    def allowed_origin(origin: str | None, environ: dict) -> bool:
        if origin is None:  # not a browser: no cross-site request to fear
            return True
        own = f"{environ.get('wsgi.url_scheme', 'http')}://{environ.get('HTTP_HOST', '')}"
        return origin == own or origin in extra

    return allowed_origin


def init_app(app: Flask) -> None:
    if app.config["ENV"] == "production" and app.config["SECRET_KEY"] in ("", DEV_SECRET):
        raise RuntimeError("SECRET_KEY must be set to a long random value in production.")
    secure = app.config["ENV"] == "production" or app.config.get("COOKIE_SECURE", False)
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=secure,
    )

    @app.after_request
    def _headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response


class BoundSessions:
    """WSGI middleware: an Engine.IO session answers only the address that opened it.

    The session id is a long-polling session's only credential, and it travels in every polling
    URL, so it ends up in proxy and platform access logs. Replayed from another address (with
    PROXY_FIX, the client's address as the trusted proxies report it), a request naming it -- a
    poll, a post, an upgrade to WebSocket -- is refused as if the session did not exist, and the
    owner's session carries on. A client whose address changes mid-session (a phone moving from
    Wi-Fi to mobile data) reconnects, as it would after any drop, and catches up.
    """

    def __init__(self, wsgi_app, path: str = "/socket.io") -> None:
        self.wsgi_app, self.path = wsgi_app, path

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO", "").startswith(self.path) and "sid=" in environ.get(
                "QUERY_STRING", ""):
            sid = parse_qs(environ["QUERY_STRING"]).get("sid", [""])[0]
            opened = socketio.server.environ.get(sid) if socketio.server else None
            if opened is not None and opened.get("REMOTE_ADDR") != environ.get("REMOTE_ADDR"):
                log.warning("refused session %s from %s: it was opened from %s", sid[:6] + "...",
                            environ.get("REMOTE_ADDR"), opened.get("REMOTE_ADDR"))
                body = json.dumps({"error": {"code": "invalid_session", "message":
                                             "Session ID unknown."}}).encode()
                start_response("400 Bad Request", [("Content-Type", "application/json"),
                                                   ("Content-Length", str(len(body)))])
                return [body]
        return self.wsgi_app(environ, start_response)

"""Browser-facing hardening: response headers, cookie flags, and refusing to run without a secret."""
from __future__ import annotations

from flask import Flask
from flask.sessions import SecureCookieSessionInterface

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


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, not reopened for every Socket.IO event.

    Flask-SocketIO pushes a request context per event, and Flask opens the cookie session on
    each push (a serializer built, a signature checked) only for Flask-SocketIO to swap in the
    connection's own copy, taken at connect. Once that copy exists (``saved_session`` in the
    connection's environ), an empty session stands in.
    """

    def open_session(self, app, request):
        if "saved_session" in request.environ:
            return self.session_class()
        return super().open_session(app, request)


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface()
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

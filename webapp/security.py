"""Browser-facing hardening: response headers, cookie flags, and refusing to run without a secret."""
from __future__ import annotations

from flask import Flask

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

"""Parley: a self-hostable real-time chat server on Flask-SocketIO."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from webapp import logs, metrics, oidc, security

# Registers the Socket.IO handlers on the unbound SocketIO object, before any init_app: handlers
# declared after init_app would bind to that one server only, not to later apps (tests make many).
from webapp.chat import events  # noqa: F401
from webapp.cli import chat_cli
from webapp.config import Config
from webapp.data.cli import COMMANDS as DATA_COMMANDS
from webapp.errors import register_http_handlers
from webapp.extensions import (
    activity,
    csrf,
    db,
    login_manager,
    migrate,
    presence,
    ratelimits,
    release_session,
    socketio,
)
from webapp.gateway import middleware as gateway_middleware
from webapp.gateway.hub import Hub, client_manager
from webapp.server.eventcontext import App, SessionInterface

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: Mapping | None = None) -> Flask:
    """Build the app; ``config`` (tests) overrides settings instead of reading the environment."""
    app = App(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(ROOT / "instance"),
    )
    settings = Config() if config is None else Config(env={})
    app.config.from_mapping(settings.as_dict())
    if config is not None:
        app.config.from_mapping(config)
    app.session_interface = SessionInterface()
    logs.init_app(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        Path(app.instance_path).mkdir(exist_ok=True)

    db.init_app(app)
    app.teardown_appcontext(release_session)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    presence.init_app(app)
    activity.init_app(app)
    ratelimits.init_app(app)
    login_manager.init_app(app)
    csrf.init_app(app)
    security.init_app(app)
    oidc.init_app(app)  # single sign-on, when OIDC_ISSUER is set
    # Pass every option on every call: Flask-SocketIO keeps options from earlier init_app calls.
    # Socket.IO's client manager (with REDIS_URL, its message queue) also delivers every room
    # event to the plain WebSocket gateway's connections (/ws, webapp/gateway).
    hub = Hub()
    socketio.init_app(
        app,
        async_mode=app.config["ASYNC_MODE"],
        client_manager=client_manager(hub, app.config["REDIS_URL"],
                                              app.config["REDIS_TIMEOUT"]),
        cors_allowed_origins=security.origin_checker(app.config["ALLOWED_ORIGINS"]),
        max_http_buffer_size=app.config["MAX_HTTP_BUFFER_SIZE"],
        ping_interval=app.config["PING_INTERVAL"],
        ping_timeout=app.config["PING_TIMEOUT"],
        # Each event runs in its connection's reader greenlet: one client's events are handled
        # in the order sent, and no greenlet is spawned per event (bench: -0.7 us per delivery).
        async_handlers=False,
    )

    from webapp.admin import bp as admin_bp
    from webapp.api import bp as api_bp
    from webapp.auth import bp as auth_bp
    from webapp.auth.cli import tokens, users
    from webapp.main import bp as main_bp
    from webapp.notify.views import bp as notify_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp, url_prefix="/auth")
    app.register_blueprint(api_bp, url_prefix="/api")
    app.register_blueprint(notify_bp)  # notifications: the digests' unsubscribe page, /sw.js
    app.register_blueprint(admin_bp, url_prefix="/admin")
    csrf.exempt(api_bp)  # bearer tokens, not cookies, authorize API writes (webapp/api/rooms.py)
    from webapp.integrations.incoming import bp as hooks_bp

    app.register_blueprint(hooks_bp)
    csrf.exempt(hooks_bp)  # incoming webhooks: the secret URL is the credential, no cookie
    app.cli.add_command(users)
    app.cli.add_command(tokens)
    register_http_handlers(app)
    app.cli.add_command(chat_cli)
    for command in DATA_COMMANDS:  # backup, export, import
        app.cli.add_command(command)
    # Where load balancers and platforms look by convention; the same view as /api/healthz.
    app.add_url_rule("/healthz", "healthz", app.view_functions["api.healthz"])
    app.add_url_rule("/livez", "livez", app.view_functions["api.livez"])
    gateway_middleware.init_app(app, hub)
    metrics.init_app(app)
    app.wsgi_app = security.BoundSessions(app.wsgi_app)  # inside ProxyFix: the client's address
    if app.config["PROXY_FIX"]:
        # Outermost, so Engine.IO's same-origin check sees the client's scheme and host too.
        n = app.config["PROXY_FIX"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n)
    return app

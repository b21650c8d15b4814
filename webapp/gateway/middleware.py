"""Serving ``/ws``: the middleware in front of the Flask app that sends that path's WebSocket
upgrades to the gateway (origin rule, clear errors for wrong paths and plain HTTP)."""
from __future__ import annotations

import json
import logging

from flask import Flask

from webapp import security
from webapp.extensions import socketio
from webapp.gateway.hub import Hub
from webapp.server.protocol import start_client_manager

PATH = "/ws"

SOCKETIO_PATH = "/socket.io/"  # Flask-SocketIO's default, which Parley keeps
NULL_ORIGIN = " (a page opened from a file, or a sandboxed frame)"

log = logging.getLogger(__name__)


def init_app(app: Flask, hub: Hub) -> None:
    """Serve the gateway at ``PATH`` in front of ``app.wsgi_app`` (eventlet only)."""
    app.extensions["parley.gateway"] = hub
    if app.config["ASYNC_MODE"] != "eventlet":
        return  # threading mode is for debugging; /ws then answers 404 like any unknown path
    app.wsgi_app = GatewayMiddleware(app, hub, app.wsgi_app)


class GatewayMiddleware:
    """Route ``PATH`` to the gateway and everything else onward."""

    def __init__(self, app: Flask, hub: Hub, wsgi_app) -> None:
        from webapp.gateway.connection import Connection
        from webapp.server import websocket as eventlet_ws

        self.wsgi_app = wsgi_app
        self.allowed_origin = security.origin_checker(app.config["ALLOWED_ORIGINS"])

        def serve(ws) -> None:
            start_client_manager(socketio.server)
            Connection(app, hub, ws, ws.environ).run()

        self.websocket = eventlet_ws.websocket_app(
            serve, app.config["MAX_HTTP_BUFFER_SIZE"],
            io_timeout=app.config["WS_PING_INTERVAL"] + app.config["WS_PING_TIMEOUT"])

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        upgrade = environ.get("HTTP_UPGRADE", "").lower() == "websocket"
        if path != PATH:
            if upgrade and not path.startswith(SOCKETIO_PATH):
                # A bare WebSocket at the page's address (ws://host/): no Flask route speaks it.
                log.info("a WebSocket client asked for %r: plain WebSocket clients connect to %s",
                         path, PATH)
                return _error(start_response, "400 Bad Request", "wrong_path",
                              f"Plain WebSocket clients connect to {PATH} (JSON frames, "
                              f"docs/websocket.md); Socket.IO clients to {SOCKETIO_PATH}.")
            return self.wsgi_app(environ, start_response)
        # The same rule as Engine.IO's: the page's own origin or the allow-list; no Origin
        # header means no browser, so no cross-site request to fear.
        origin = environ.get("HTTP_ORIGIN")
        if not self.allowed_origin(origin, environ):
            # A browser shows its page nothing but a failed connection: say it here.
            own = f"{environ.get('wsgi.url_scheme', 'http')}://{environ.get('HTTP_HOST', '')}"
            log.warning("%s refused origin %s%s: add it to ALLOWED_ORIGINS to allow it (this "
                        "server's own origin, always allowed, is %s here; behind a proxy see "
                        "PROXY_FIX)", PATH, origin, NULL_ORIGIN if origin == "null" else "", own)
            return _error(start_response, "403 Forbidden", "bad_origin",
                          "This origin may not open connections here (ALLOWED_ORIGINS).")
        if not upgrade:
            return _error(start_response, "426 Upgrade Required", "upgrade_required",
                          "This endpoint speaks WebSocket; see docs/websocket.md.",
                          [("Upgrade", "websocket")])
        return self.websocket(environ, start_response)



def _error(start_response, status: str, code: str, message: str, headers=()):
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    start_response(status, [("Content-Type", "application/json"),
                            ("Content-Length", str(len(body))), *headers])
    return [body]

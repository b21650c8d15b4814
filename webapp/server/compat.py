"""The versions and private names the engine was written for, checked when the server starts.

The engine (this folder) subclasses and reaches into eventlet, python-engineio, python-socketio,
Flask-SocketIO and wsproto below their public APIs. A release of any of them -- a security fix of
python-engineio, say -- may rename or change what it uses, and the engine would then misbehave
quietly (a transport that never writes, a bound that never applies). So the server refuses to
start unless each package is the exact version pinned in pyproject.toml (``PINS``; a test keeps
the two in step) and every private name in ``PRIVATE`` exists, and says which one is wrong.

Upgrading one of them: change the pin in pyproject.toml and here, read what the engine uses of it
(``PRIVATE``: the names; the modules: how), run the whole suite, whose e2e tests drive every
piece of the tuning on the real eventlet server, and the bench (docs/performance.md).
"""
from __future__ import annotations

import importlib
from importlib import metadata

# package -> the release the engine was written for (pyproject.toml pins the same).
PINS = {
    "eventlet": "0.41.3",
    "python-engineio": "4.15.1",
    "python-socketio": "5.18.1",
    "Flask-SocketIO": "5.7.0",
    "wsproto": "1.3.2",
}

# module -> dotted names below it that the engine uses and the libraries do not promise.
PRIVATE = {
    "eventlet.websocket": [
        "RFC6455WebSocket.Message", "RFC6455WebSocket._apply_mask", "RFC6455WebSocket._send",
        "RFC6455WebSocket._pack_message", "RFC6455WebSocket._send_closing_frame",
        "RFC6455WebSocket._recv_frame", "WebSocketWSGI._handle_hybi_request",
        "WebSocketWSGI._negotiate_permessage_deflate",
    ],
    "eventlet.wsgi": ["HttpProtocol.finish", "HttpProtocol.setup", "HttpProtocol.rbufsize"],
    "eventlet.queue": ["LightQueue._put", "LightQueue._get"],
    "eventlet.hubs": ["notify_opened"],
    "engineio.socket": [
        "Socket.schedule_ping", "Socket.poll", "Socket._websocket_handler", "Socket.send",
        "Socket.check_ping_timeout", "Socket.receive", "Socket.close",
    ],
    "engineio.async_drivers.eventlet": ["_async", "WebSocketWSGI"],
    "engineio.payload": ["Payload.max_decode_packets"],
    "engineio.base_server": ["BaseServer._upgrades", "BaseServer._get_socket"],
    "socketio.manager": ["Manager.emit"],
    "socketio.base_manager": ["BaseManager.get_participants", "BaseManager.basic_enter_room",
                              "BaseManager.basic_leave_room"],
    "socketio.pubsub_manager": ["PubSubManager._publish", "PubSubManager._listen",
                                "PubSubManager._handle_emit"],
    "socketio.redis_manager": ["RedisManager._listen"],
    "socketio.server": ["Server._handle_eio_message", "Server._handle_connect",
                        "Server._handle_eio_connect",
                        "Server._engineio_server_class"],
    "wsproto.frame_protocol": ["XorMaskerSimple"],
}


class IncompatibleEngine(RuntimeError):
    """An engine package is not the release Parley's tuning was written for."""


def installed_version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def problems() -> list[str]:
    """What does not match, one line each (empty: all is as written for)."""
    found = []
    for package, pinned in PINS.items():
        version = installed_version(package)
        if version != pinned:
            found.append(f"{package} is {version or 'not installed'}; Parley's engine "
                         f"(webapp/server) was written for {pinned}")
    for module_name, names in PRIVATE.items():
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            found.append(f"{module_name} cannot be imported ({exc})")
            continue
        for dotted in names:
            target = module
            for part in dotted.split("."):
                target = getattr(target, part, _MISSING)
                if target is _MISSING:
                    found.append(f"{module_name}.{dotted} is gone (used by webapp/server)")
                    break
    return found


_MISSING = object()


def check() -> None:
    """Refuse to serve on packages the engine was not written for; say what differs."""
    found = problems()
    if found:
        raise IncompatibleEngine(
            "the server's engine does not match its packages:\n  - " + "\n  - ".join(found)
            + "\nInstall the pinned versions (make run does), or port webapp/server to these "
              "(see webapp/server/compat.py).")

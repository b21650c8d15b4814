"""The request context Flask-SocketIO pushes for every Socket.IO event, minus what it never uses.

Flask-SocketIO runs each event handler inside ``app.request_context(environ)`` built from the
connection's handshake environ: that is what gives handlers ``request.sid`` and ``session``.
Building it also binds the URL map, routes the handshake's path and opens the cookie session,
about 15 us of the ~25 us it costs -- work no event handler uses, once per chat message.

After the connect event, Flask-SocketIO keeps its own copy of the session in the connection's
environ (``saved_session``): that marks the later events, and only those skip the work. Plain
HTTP requests, and the connect event (which reads the login cookie), are untouched.
"""
from __future__ import annotations

from flask import Flask
from flask.sessions import SecureCookieSessionInterface

_SOCKETIO_SESSION = "saved_session"  # Flask-SocketIO's key (manage_session=True, its default)


def is_socketio_event(environ: dict) -> bool:
    return _SOCKETIO_SESSION in environ


class App(Flask):
    """Flask, with no URL routing for Socket.IO events (handlers never call ``url_for``)."""

    def create_url_adapter(self, request):
        if request is not None and is_socketio_event(request.environ):
            return None
        return super().create_url_adapter(request)


class SessionInterface(SecureCookieSessionInterface):
    """The signed-cookie session, not reopened (serializer built, signature checked) for each
    Socket.IO event only for Flask-SocketIO to swap in its own copy."""

    def open_session(self, app, request):
        if is_socketio_event(request.environ):
            return self.session_class()
        return super().open_session(app, request)

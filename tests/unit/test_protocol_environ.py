"""webapp/server/protocol.py's ``lasting_environ``: what python-socketio keeps of a connection's
handshake request lets the request's own objects go, and still makes every event's request."""
import io

from flask import request

from webapp.server.protocol import lasting_environ


class Stream:
    """Stands for eventlet's request input: its reader, writer and socket behind it."""


def test_the_kept_environ_holds_no_request_objects_and_still_makes_requests(app):
    stream, errors = Stream(), io.StringIO()
    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": "/socket.io/", "QUERY_STRING": "EIO=4",
        "SERVER_NAME": "localhost", "SERVER_PORT": "5000", "REMOTE_ADDR": "203.0.113.7",
        "HTTP_COOKIE": "session=abc", "HTTP_ORIGIN": "http://localhost:5000",
        "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.multithread": True,
        "wsgi.input": stream, "eventlet.input": stream, "eventlet.posthooks": [],
        "wsgi.errors": errors, "flask.app": app,
    }
    kept = lasting_environ(environ)
    assert stream not in kept.values()
    assert "eventlet.posthooks" not in kept
    assert kept["wsgi.errors"] is errors and kept["flask.app"] is app
    assert kept["wsgi.input"].read() == b""
    with app.request_context(kept):
        assert request.remote_addr == "203.0.113.7"
        assert request.cookies["session"] == "abc"
        assert request.headers["Origin"] == "http://localhost:5000"
        assert request.args["EIO"] == "4"

"""One error type with a stable machine code, and the handlers that shape it for HTTP and sockets."""
from __future__ import annotations

import logging

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from webapp import metrics

log = logging.getLogger(__name__)


class AppError(Exception):
    """A failure the client can act on: ``code`` is stable API, ``message`` is for humans."""

    code = "bad_request"
    status = 400

    def __init__(
        self, message: str, code: str | None = None, status: int | None = None, **details
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details  # extra machine-readable fields, e.g. retry_after
        if code:
            self.code = code
        if status:
            self.status = status

    def to_dict(self) -> dict:
        return {"code": self.code, "message": self.message, **self.details}


class InvalidPayload(AppError):
    code = "invalid_payload"


class NotInRoom(AppError):
    code = "not_in_room"
    status = 403


class Forbidden(AppError):
    code = "forbidden"
    status = 403


class RateLimited(AppError):
    code = "rate_limited"
    status = 429


class Flooding(RateLimited):
    """Still over the limit after many refusals: the connection is closed after this ack."""

    code = "flood"


class NotFound(AppError):
    code = "not_found"
    status = 404


def error_ack(error: AppError) -> dict:
    """The Socket.IO acknowledgement for a failed event."""
    return {"ok": False, "error": error.to_dict()}


def internal_error() -> AppError:
    return AppError("Something went wrong on the server.", code="internal", status=500)


def socket_error_handler(exc: Exception) -> dict:
    """Flask-SocketIO sends what this returns as the ack of the event that raised."""
    if isinstance(exc, AppError):
        metrics.error(exc.code)
        return error_ack(exc)
    log.exception("unhandled error in socket event", exc_info=exc)
    metrics.error("internal")
    return error_ack(internal_error())


def register_http_handlers(app: Flask) -> None:
    """Answer every HTTP error in the one JSON shape, never with a traceback."""

    @app.errorhandler(AppError)
    def _app_error(exc: AppError):
        metrics.error(exc.code)
        response = jsonify(error=exc.to_dict())
        if "retry_after" in exc.details:
            response.headers["Retry-After"] = str(max(1, round(exc.details["retry_after"])))
        return response, exc.status

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        code = (exc.name or "error").lower().replace(" ", "_")
        return jsonify(error={"code": code, "message": exc.description}), exc.code

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error in request", exc_info=exc)
        metrics.error("internal")
        return jsonify(error=internal_error().to_dict()), 500

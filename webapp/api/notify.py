"""REST: notification settings and Web Push subscriptions (the operations of
webapp/notify/settings.py, for API tokens; docs/api.md, "Notifications")."""
from flask import current_app, jsonify, request

from webapp.api.blueprint import bp
from webapp.api.rooms import _body, _caller, _no_store, _op
from webapp.notify import webpush


@bp.get("/push/key")
def push_key():
    """The VAPID public key browsers subscribe with; ``null`` when push is off."""
    return jsonify(key=webpush.public_key(current_app.config))


@bp.get("/notifications/settings")
def notify_settings():
    """The account's preferences and its per-room settings (``?room=`` for one room)."""
    query = {"room": request.args["room"]} if "room" in request.args else {}
    answer = _op("notify_settings", _caller(allow_session=True), query)
    answer.pop("ok")
    return _no_store(jsonify(answer))


@bp.patch("/notifications/settings")
def account_settings():
    """Change the account's preferences: push, email_digest, digest_minutes, email."""
    body = {k: v for k, v in _body().items() if k != "room"}
    answer = _op("set_notify", _caller(allow_session=False), body)
    answer.pop("ok")
    return _no_store(jsonify(answer))


@bp.put("/rooms/<room>/notifications")
def room_settings(room: str):
    """Change one room's level and mute: level, mute_minutes or muted_until."""
    answer = _op("set_notify", _caller(allow_session=False), {**_body(), "room": room})
    return _no_store(jsonify(answer["room"]))


@bp.post("/push/subscriptions")
def push_subscribe():
    """Keep a browser's PushSubscription JSON (endpoint, keys.p256dh, keys.auth)."""
    answer = _op("push_subscribe", _caller(allow_session=False), _body())
    return jsonify(answer["subscription"]), 201


@bp.delete("/push/subscriptions")
def push_unsubscribe():
    """Forget a browser: ``{"endpoint": ...}``; 404 when it was not this account's."""
    answer = _op("push_unsubscribe", _caller(allow_session=False), _body())
    return ("", 204) if answer["removed"] else (jsonify(error={
        "code": "not_found", "message": "No such subscription."}), 404)

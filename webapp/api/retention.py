"""REST: a room's retention (``set_retention``, webapp/data/retention.py)."""
from flask import jsonify, request

from webapp.api.blueprint import bp
from webapp.api.rooms import _caller
from webapp.chat import ops
from webapp.errors import InvalidPayload


@bp.put("/rooms/<room>/retention")
def set_retention(room: str):
    """``{"days": N}`` (0: forever, null: RETENTION_DAYS), by the room's owner or an admin."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidPayload("The body must be a JSON object.")
    answer = ops.OPS["set_retention"](_caller(allow_session=False), {**body, "room": room}, None)
    return jsonify(room=answer["room"], retention_days=answer["retention_days"],
                   effective_days=answer["effective_days"])

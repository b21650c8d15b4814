"""REST for read state and mentions (issue 18): the same operations as the event API."""
from flask import jsonify, request

from webapp.api.blueprint import bp
from webapp.api.rooms import _body, _caller, _int_arg, _no_store, _op


@bp.post("/rooms/<room>/read")
def mark_read(room: str):
    """``{"seq"}`` or ``{"id"}``: the room is read up to there (``read``); never backwards."""
    ack = _op("read", _caller(allow_session=False), {**_body(), "room": room})
    return _no_store(jsonify({k: ack[k] for k in ("room", "last_read", "unread", "mentions")}))


@bp.get("/mentions")
def list_mentions():
    """Messages mentioning the caller, newest first: ``?before=&limit=`` (``mentions``)."""
    query = {k: _int_arg(k) for k in ("before", "limit") if k in request.args}
    answer = _op("mentions", _caller(allow_session=True), query)
    return _no_store(jsonify(messages=answer["messages"], next=answer["next"]))


@bp.put("/settings/read-receipts")
def read_receipts():
    """``{"on": true|false}``: whether others see how far you have read (``read_receipts``)."""
    ack = _op("read_receipts", _caller(allow_session=False), _body())
    return jsonify(send_receipts=ack["send_receipts"])

"""REST endpoints over the same chat service."""
from flask import Blueprint, jsonify
from sqlalchemy import text

from webapp.chat import service
from webapp.extensions import db

bp = Blueprint("api", __name__)


@bp.get("/rooms")
def rooms():
    return jsonify(rooms=service.list_rooms())


@bp.get("/healthz")
def healthz():
    db.session.execute(text("SELECT 1"))
    return jsonify(ok=True)

"""The pages."""
from flask import Blueprint, render_template
from flask_login import current_user

bp = Blueprint("main", __name__)


@bp.get("/")
def index():
    # A logged-in user skips the nickname form; the template exposes the name as data-user.
    return render_template("index.html", current_user=current_user)

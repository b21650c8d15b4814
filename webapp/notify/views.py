"""The page an e-mail digest's unsubscribe link opens: GET asks, POST turns digests off.

No login: the signed token in the link names the account. The POST needs no CSRF token (mail
providers' one-click unsubscribe, RFC 8058, posts without one); all it can do is stop e-mails.
"""
from flask import Blueprint, current_app, render_template, send_from_directory

from webapp.extensions import csrf
from webapp.notify import digest

bp = Blueprint("notify", __name__)


@bp.get("/notify/unsubscribe/<token>")
def unsubscribe_page(token: str):
    user = digest.token_user(token)
    return render_template("notify/unsubscribe.html", user=user, done=False), (
        200 if user else 404)


@bp.post("/notify/unsubscribe/<token>")
@csrf.exempt
def unsubscribe(token: str):
    user = digest.token_user(token)
    if user is None:
        return render_template("notify/unsubscribe.html", user=None, done=False), 404
    digest.turn_off(user)
    return render_template("notify/unsubscribe.html", user=user, done=True)


@bp.get("/sw.js")
def service_worker():
    """The service worker (static/sw.js) from the site's root, so its scope is the whole site."""
    response = send_from_directory(current_app.static_folder, "sw.js",
                                   mimetype="text/javascript", max_age=0)
    response.headers["Cache-Control"] = "no-cache"  # browsers check for a new worker
    return response

"""Notification pages: the settings page's section (its form and the push opt-in's requests),
the service worker at /sw.js, and the page an e-mail digest's unsubscribe link opens.

The unsubscribe link needs no login: the signed token in it names the account. Its POST needs no
CSRF token (mail providers' one-click unsubscribe, RFC 8058, posts without one); all it can do is
stop e-mails.
"""
from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_login import current_user, login_required

from webapp.chat import service
from webapp.errors import AppError
from webapp.extensions import csrf
from webapp.notify import digest, settings

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


# -- the settings page's section (templates/notify/settings_section.html) ------------------------
def _member():
    return service.connect(None, None, user=current_user, address=request.remote_addr)


@bp.app_context_processor
def _section_context() -> dict:
    """``notify_section()``: what the settings page's notification section shows (lazily: only
    that page calls it)."""
    def section() -> dict:
        return settings.read(_member(), {})["account"]
    return {"notify_section": section}


@bp.post("/notify/settings")
@login_required
def save_settings():
    """The section's form (CSRF-protected like every page form): digests and push (the address
    digests go to is the account's, set in the E-mail section with the password)."""
    form = request.form
    data = {"email_digest": form.get("email_digest") == "on", "push": form.get("push") == "on"}
    if form.get("digest_minutes", "").strip():
        raw = form["digest_minutes"].strip()
        data["digest_minutes"] = int(raw) if raw.isdigit() and len(raw) < 7 else raw
    else:
        data["digest_minutes"] = None
    try:
        settings.change(_member(), data)
        flash("Notification settings saved.")
    except AppError as exc:
        flash(f"Notification settings not saved: {exc.message}")
    return redirect(url_for("auth.settings") + "#notify-heading")


@bp.post("/notify/push")
@login_required
def push_subscribe():
    """The section's script keeps this browser's subscription (JSON, X-CSRFToken header)."""
    return jsonify(settings.subscribe(_member(), request.get_json(silent=True)))


@bp.post("/notify/push/remove")
@login_required
def push_unsubscribe():
    return jsonify(settings.unsubscribe(_member(), request.get_json(silent=True)))

"""Single sign-on pages: off to the provider, back with a code; link an identity in settings.

Any failure on the way back (an error from the provider, a state that does not match, an ID
token whose signature, issuer, audience, expiry or nonce is wrong) is a refusal page, never a
500: the person sees why and can try again.
"""
from __future__ import annotations

import logging

from flask import abort, current_app, flash, redirect, render_template, session, url_for
from flask_login import current_user, login_required

from webapp import oidc
from webapp.auth.forms import EmptyForm
from webapp.auth.steps import finish_login
from webapp.auth.views import bp
from webapp.errors import AppError

log = logging.getLogger(__name__)
LINKING = "oidc_link"  # the session asks to link the identity to this user id, not to log in


def _callback_url() -> str:
    # PUBLIC_URL, as registered with the provider: not whatever Host header came in.
    return f"{current_app.config['PUBLIC_URL']}{url_for('auth.oidc_callback')}"


def _enabled_or_404() -> None:
    if not oidc.enabled(current_app.config):
        abort(404)


@bp.get("/oidc/login")
def oidc_login():
    _enabled_or_404()
    session.pop(LINKING, None)
    return oidc.client().authorize_redirect(_callback_url())


@bp.post("/oidc/link")
@login_required
def oidc_link():
    """Link an identity of the provider to this account (the only way to a local account)."""
    _enabled_or_404()
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("auth.settings"))
    session[LINKING] = current_user.id
    return oidc.client().authorize_redirect(_callback_url())


@bp.get("/oidc/callback")
def oidc_callback():
    _enabled_or_404()
    linking = session.pop(LINKING, None)
    try:
        token = oidc.client().authorize_access_token(leeway=oidc.LEEWAY)
        claims = token.get("userinfo")
        if not claims:
            raise AppError("The provider sent no ID token.", code="oidc_failed", status=403)
    except AppError as exc:
        return _refused(exc)
    except Exception as exc:  # noqa: BLE001 - Authlib's, joserfc's and requests' errors alike
        log.warning("single sign-on refused: %s: %s", type(exc).__name__, exc)
        return _refused(AppError("The provider's answer could not be verified.",
                                 code="oidc_failed", status=403))
    user = current_user._get_current_object() if current_user.is_authenticated else None
    link_to = user if linking is not None and user is not None and user.id == linking else None
    try:
        user = oidc.log_in(dict(claims), link_to=link_to)
    except AppError as exc:
        return _refused(exc)
    if link_to is not None:
        flash(f"Your {current_app.config['OIDC_LABEL']} identity is linked to this account.")
        return redirect(url_for("auth.settings"))
    return finish_login(user)


def _refused(exc: AppError):
    return render_template("auth/oidc_refused.html", error=exc), exc.status

"""Two-factor pages: the login's second step, enrolment, turning it off; and, with
REQUIRE_2FA_FOR_ADMINS, an admin without it is sent to enrol before anything else."""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from webapp import accounts, twofactor
from webapp.auth.forms import CodeForm, DisableTwoFactorForm
from webapp.auth.steps import complete_login, pending
from webapp.auth.views import _settings_page, _throttled, bp

# What an admin who must enrol may still reach: enrolment itself, and the way out.
ENROL_ENDPOINTS = {"auth.two_factor_setup", "auth.logout", "static"}


@bp.before_app_request
def _enrol_first():
    """Pages of an admin who must enrol lead to enrolment; REST and sockets refuse such a
    session with ``2fa_required`` (webapp/chat/service.py)."""
    if request.blueprint not in ("main", "auth") or request.endpoint in ENROL_ENDPOINTS:
        return None
    if not current_app.config.get("REQUIRE_2FA_FOR_ADMINS"):
        return None
    if current_user.is_authenticated and twofactor.required(current_user, current_app.config):
        return redirect(url_for("auth.two_factor_setup"))
    return None


@bp.route("/2fa", methods=["GET", "POST"])
def second_step():
    """After the password: a code from the app, or a recovery code, completes the login."""
    waiting = pending()
    if waiting is None:
        flash("Log in first (the code is asked for after the password, for 5 minutes).")
        return redirect(url_for("auth.login"))
    user, remember = waiting
    form = CodeForm()  # "keep me logged in" was chosen with the password
    if form.validate_on_submit():
        # The login limits: a code is a password's second half, and six digits are guessable.
        refused = _throttled(
            form, form.code, "login", f"addr:{request.remote_addr}", f"name:{user.name_key}",
            message="Too many attempts; wait a minute and try again.",
            page=lambda: render_template("auth/second_step.html", form=form),
        )
        if refused:
            return refused
        kind = twofactor.verify(user, form.code.data)
        if kind is not None:
            if kind == "recovery":
                flash(f"Recovery code used: {twofactor.recovery_codes_left(user)} left.")
            return complete_login(user, remember)
        form.code.errors.append("That code is wrong, or was used already.")
    return render_template("auth/second_step.html", form=form), 400 if form.errors else 200


@bp.route("/2fa/setup", methods=["GET", "POST"])
@login_required
def two_factor_setup():
    """Scan the QR code (or type the secret), confirm with a code: the recovery codes, once."""
    user = current_user._get_current_object()
    if twofactor.enabled(user):
        return redirect(url_for("auth.settings"))
    row = twofactor.begin(user)
    form = CodeForm()
    if form.validate_on_submit():
        refused = _throttled(
            form, form.code, "login", f"addr:{request.remote_addr}", f"name:{user.name_key}",
            message="Too many attempts; wait a minute and try again.",
            page=lambda: _setup_page(user, row, form),
        )
        if refused:
            return refused
        codes = twofactor.confirm(user, form.code.data)
        if codes is not None:
            return render_template("auth/recovery_codes.html", codes=codes)
        form.code.errors.append("That code is wrong; check the phone's clock and try the next one.")
    return _setup_page(user, row, form), 400 if form.errors else 200


def _setup_page(user, row, form) -> str:
    uri = twofactor.uri(user, row)
    return render_template(
        "auth/two_factor_setup.html", form=form, uri=uri, secret=row.secret,
        qr=twofactor.qr_svg(uri), required=twofactor.required(user, current_app.config),
    )


@bp.post("/2fa/disable")
@login_required
def two_factor_disable():
    """Turning it off takes a code from the app or the password: not a stolen session alone."""
    user = current_user._get_current_object()
    form = DisableTwoFactorForm()
    if form.validate_on_submit() and twofactor.enabled(user):
        refused = _throttled(
            form, form.secret, "login", f"addr:{request.remote_addr}", f"name:{user.name_key}",
            message="Too many attempts; wait a minute and try again.",
            page=lambda: _settings_page(disable_form=form),
        )
        if refused:
            return refused
        secret = form.secret.data
        if twofactor.check_code(twofactor.factor(user), secret) or (
            accounts.authenticate(user.name, secret) is not None
        ):
            twofactor.disable(user)
            flash("Two-factor authentication is off.")
            return redirect(url_for("auth.settings"))
        form.secret.errors.append("That is neither a current code nor your password.")
    return _settings_page(disable_form=form), 400

"""Password reset pages ("forgot password", the link's page) and the account's e-mail address.

Without SMTP_HOST there is no reset: the pages answer 404 and the login page does not offer it.
"""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from webapp import accounts, mail, resets
from webapp.auth.forms import EmailForm, ForgotForm, ResetForm
from webapp.auth.views import _close_logins, _settings_page, _throttled, bp
from webapp.errors import AppError


def _mail_or_404() -> None:
    if not mail.enabled(current_app.config):
        abort(404)


@bp.route("/forgot", methods=["GET", "POST"])
def forgot():
    """Ask for a link; the answer is the same whether an account has the address or not."""
    _mail_or_404()
    form = ForgotForm()
    if form.validate_on_submit():
        email = form.email.data.strip().casefold()
        refused = _throttled(
            form, form.email, "password_reset", f"addr:{request.remote_addr}", f"email:{email}",
            message="Too many requests; try again later.", page=lambda: _forgot_page(form),
        )
        if refused:
            return refused
        resets.request_reset(email)
        return _forgot_page(form, sent=True)
    return _forgot_page(form), 400 if form.errors else 200


def _forgot_page(form, sent: bool = False) -> str:
    return render_template("auth/forgot.html", form=form, sent=sent)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset(token: str):
    """Choose a new password: every session of the account ends, and the link dies."""
    _mail_or_404()
    user = resets.user_for(token)
    if user is None:
        return render_template("auth/reset.html", form=None), 400
    form = ResetForm()
    if form.validate_on_submit():
        try:
            resets.reset(user, form.new_password.data)
        except AppError as exc:
            form.new_password.errors.append(exc.message)
        else:
            _close_logins(user)
            flash("Password changed, and every session ended. Log in with the new one.")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", form=form), 400 if form.errors else 200


@bp.post("/email")
@login_required
def set_email():
    """The address password resets (and notifications) go to; empty removes it."""
    form = EmailForm()
    user = current_user._get_current_object()
    if form.validate_on_submit():
        # The address can reset the password: a stolen session alone must not set it, so the
        # password is asked for, and counted like a login.
        refused = _throttled(
            form, form.email_password, "login", f"addr:{request.remote_addr}",
            f"name:{user.name_key}", message="Too many attempts; wait a minute and try again.",
            page=lambda: _settings_page(email_form=form),
        )
        if refused:
            return refused
        try:
            if accounts.authenticate(user.name, form.email_password.data) is None:
                raise AppError("The password is wrong (an account made by single sign-on has "
                               "none: its address comes from the provider).",
                               code="wrong_password")
            resets.set_email(user, form.email.data)
        except AppError as exc:
            field = form.email_password if exc.code == "wrong_password" else form.email
            field.errors.append(exc.message)
        else:
            flash("E-mail address saved." if form.email.data else "E-mail address removed.")
            return redirect(url_for("auth.settings"))
    return _settings_page(email_form=form), 400

"""Register, log in, log out; create, list and revoke API tokens."""
from flask import flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from webapp import accounts
from webapp.auth import bp
from webapp.auth.forms import EmptyForm, LoginForm, RegisterForm, TokenForm
from webapp.errors import AppError
from webapp.extensions import login_manager, ratelimits


@login_manager.user_loader
def load_user(user_id: str):
    from webapp.extensions import db
    from webapp.models import User

    return db.session.get(User, int(user_id)) if user_id.isdigit() else None


@bp.after_request
def _no_store(response):
    """Account pages carry secrets (a new API token, CSRF tokens, what was typed into a form):
    no browser or proxy cache may keep a copy, nor show it again from history."""
    response.headers["Cache-Control"] = "no-store"
    return response


def _throttled(form, field, action: str, *keys: str, message: str):
    """The form again with ``message`` and 429 if ``keys`` are over the ``action`` limit."""
    if ratelimits.hit(action, *keys):
        return None
    field.errors.append(message)
    response = make_response(render_template(f"auth/{action}.html", form=form), 429)
    response.headers["Retry-After"] = str(max(1, round(ratelimits.retry_after(action, *keys))))
    return response


@bp.route("/register", methods=["GET", "POST"])
def register():
    form = RegisterForm()
    if form.validate_on_submit():
        # Per address: one address minting accounts (spam, squatting names, a hash each).
        refused = _throttled(
            form, form.name, "register", f"addr:{request.remote_addr}",
            message="Too many new accounts from your address; try again later.",
        )
        if refused:
            return refused
        try:
            user = accounts.create_user(form.name.data, form.password.data)
        except AppError as exc:
            form.name.errors.append(exc.message)
        else:
            login_user(user)
            return redirect(url_for("main.index"))
    return render_template("auth/register.html", form=form), 400 if form.errors else 200


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        name = form.name.data.strip()
        # Throttle per address and per account name, so neither one guesser nor many
        # addresses aimed at one account get far. The address is the peer's, or with PROXY_FIX
        # the one the trusted proxy saw: a client-sent X-Forwarded-For changes nothing.
        refused = _throttled(
            form, form.password, "login", f"addr:{request.remote_addr}", f"name:{name.casefold()}",
            message="Too many attempts; wait a minute and try again.",
        )
        if refused:
            return refused
        user = accounts.authenticate(name, form.password.data)
        if user is not None:
            login_user(user, remember=form.remember.data)
            return redirect(url_for("main.index"))
        form.password.errors.append("Wrong name or password.")
    return render_template("auth/login.html", form=form), 400 if form.errors else 200


@bp.post("/logout")
def logout():
    if EmptyForm().validate_on_submit():
        logout_user()
    return redirect(url_for("main.index"))


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings():
    form = TokenForm()
    created = None
    if form.validate_on_submit():
        token, created = accounts.create_token(current_user, form.name.data)
        flash(f"Token '{token.name}' created. Copy it now: it is shown only once.")
    tokens = accounts.list_tokens(current_user)
    return render_template(
        "auth/settings.html", form=form, tokens=tokens, created=created, revoke_form=EmptyForm()
    )


@bp.post("/tokens/<int:token_id>/revoke")
@login_required
def revoke(token_id: int):
    if EmptyForm().validate_on_submit():
        from webapp.chat.events import disconnect_token

        token = accounts.revoke_token(current_user, token_id)
        disconnect_token(token.id)
        flash(f"Token '{token.name}' revoked; its connections were closed.")
    return redirect(url_for("auth.settings"))

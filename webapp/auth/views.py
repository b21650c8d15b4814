"""Register, log in, log out; create, list and revoke API tokens."""
from flask import flash, redirect, render_template, request, url_for
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


@bp.route("/register", methods=["GET", "POST"])
def register():
    form = RegisterForm()
    if form.validate_on_submit():
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
        # addresses aimed at one account get far.
        if not ratelimits.hit("login", f"addr:{request.remote_addr}", f"name:{name.casefold()}"):
            form.password.errors.append("Too many attempts; wait a minute and try again.")
            return render_template("auth/login.html", form=form), 429
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

"""Register, log in, log out, change the password; create, list and revoke API tokens."""
from datetime import timedelta

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user
from flask_login.config import COOKIE_DURATION, COOKIE_NAME

from webapp import accounts, audit, oidc, twofactor
from webapp import temporary_passwords as temporary
from webapp.auth.forms import (
    DisableTwoFactorForm,
    EmailForm,
    EmptyForm,
    LoginForm,
    PasswordForm,
    ReceiptsForm,
    RegisterForm,
    TokenForm,
)
from webapp.auth.registration import (
    INVITATION_REFUSALS,
    closed_page,
    create_account,
    registration_refused,
)
from webapp.auth.steps import finish_login
from webapp.errors import AppError
from webapp.extensions import login_manager, ratelimits

bp = Blueprint("auth", "webapp.auth")


@login_manager.user_loader
def load_user(login_id: str):
    """Called wherever the login cookie names a user (page, REST, Socket.IO and /ws connect):
    refuses logins ended by a log out, a password change or deactivation, and old ones."""
    return accounts.resume_login(login_id, _login_lifetime().total_seconds())


def _login_lifetime() -> timedelta:
    """How long a login stands: as long as the browser is told to keep the remember-me cookie."""
    duration = current_app.config.get("REMEMBER_COOKIE_DURATION", COOKIE_DURATION)
    return duration if isinstance(duration, timedelta) else timedelta(seconds=duration)


def _log_in(user, remember: bool = False) -> None:
    login_user(accounts.begin_login(user), remember=remember)


def _close_logins(user) -> None:
    """Close the user's live connections made with a login cookie, on every process."""
    from webapp.chat.cluster import disconnect_logins

    disconnect_logins(user.id)


@bp.after_request
def _no_store(response):
    """Account pages carry secrets (a new API token, CSRF tokens, what was typed into a form):
    no browser or proxy cache may keep a copy, nor show it again from history."""
    response.headers["Cache-Control"] = "no-store"
    return response


def _throttled(form, field, action: str, *keys: str, message: str, page=None):
    """The form again with ``message`` and 429 if ``keys`` are over the ``action`` limit;
    ``page()`` renders it when it is not ``auth/<action>.html``."""
    if ratelimits.hit(action, *keys):
        return None
    field.errors.append(message)
    body = page() if page else render_template(f"auth/{action}.html", form=form)
    response = make_response(body, 429)
    response.headers["Retry-After"] = str(max(1, round(ratelimits.retry_after(action, *keys))))
    return response


@bp.route("/register", methods=["GET", "POST"])
def register():
    """Self-registration as REGISTRATION allows: open, with an invitation link, or not at all."""
    mode, invite = current_app.config["REGISTRATION"], request.args.get("invite")
    refused = registration_refused(mode, invite)
    if refused:
        return refused
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
            user = create_account(form.name.data, form.password.data,
                                  invite if mode == "invite" else None)
        except AppError as exc:
            if exc.code in INVITATION_REFUSALS:
                return closed_page(exc.message, exc.code)
            form.name.errors.append(exc.message)
        else:
            _log_in(user)
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
        kind = temporary.login(user) if user is not None else None
        if user is not None and kind != "used":
            audit.record("login", actor=user, target=f"user:{user.name}",
                         details={"temporary_password": True} if kind else None)
            answer = finish_login(user, remember=form.remember.data)  # or the code first
            if kind == "first" and not twofactor.enabled(user):
                flash("You logged in with a temporary password: choose your own now.")
                return redirect(url_for("auth.settings"))
            return answer
        audit.record("login_failed", target=f"user:{name[:32]}",
                     details={"reason": "temporary_password_used"} if kind else None)
        form.password.errors.append(temporary.USED if kind else "Wrong name or password.")
    return render_template("auth/login.html", form=form), 400 if form.errors else 200


@bp.post("/logout")
def logout():
    """Log out everywhere: every session and remember-me cookie of the user ends (copies too),
    and their live connections made with one close. API tokens stay (revoke them apart)."""
    if EmptyForm().validate_on_submit():
        if current_user.is_authenticated:
            user = current_user._get_current_object()
            accounts.end_sessions(user)
            _close_logins(user)
            audit.record("logout", actor=user, target=f"user:{user.name}")
        logout_user()
    return redirect(url_for("main.index"))


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings():
    form = TokenForm()
    created = None
    if form.validate_on_submit():
        token, created = accounts.create_token(current_user, form.name.data)
        audit.record("token_created", actor=current_user, target=f"token:{token.id}",
                     details={"name": token.name, "prefix": token.prefix})
        flash(f"Token '{token.name}' created. Copy it now: it is shown only once.")
    return _settings_page(form=form, created=created)


def _settings_page(**forms_and_token) -> str:
    from webapp.auth.invitation_views import member_context

    context = {"form": TokenForm(), "password_form": PasswordForm(), "created": None,
               "disable_form": DisableTwoFactorForm(),
               "email_form": EmailForm(email=current_user.email),
               "receipts_form": ReceiptsForm(send_receipts=current_user.send_receipts),
               **member_context()}
    return render_template(
        "auth/settings.html", **{**context, **forms_and_token},
        tokens=accounts.list_tokens(current_user), revoke_form=EmptyForm(),
        two_factor=twofactor.enabled(current_user),
        recovery_codes_left=twofactor.recovery_codes_left(current_user),
        identities=oidc.identities(current_user),
    )


@bp.post("/password")
@login_required
def change_password():
    """A new password ends every other login and its connections; this browser stays in."""
    form = PasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        # The login limits and counters: this form checks a password too, so it must not give
        # a stolen session a second budget of guesses.
        refused = _throttled(
            form, form.current_password, "login", f"addr:{request.remote_addr}",
            f"name:{user.name_key}", message="Too many attempts; wait a minute and try again.",
            page=lambda: _settings_page(password_form=form),
        )
        if refused:
            return refused
        remembered = current_app.config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME) in request.cookies
        try:
            accounts.change_password(user, form.current_password.data, form.new_password.data)
        except AppError as exc:
            field = form.current_password if exc.code == "wrong_password" else form.new_password
            field.errors.append(exc.message)
        else:
            _close_logins(user)
            temporary.chosen(user)
            audit.record("password_changed", actor=user, target=f"user:{user.name}")
            _log_in(user, remember=remembered)  # a new login under the new secret
            flash("Password changed. Every other session has ended; open chats reconnect with this one.")
            return redirect(url_for("auth.settings"))
    return _settings_page(password_form=form), 400


@bp.post("/tokens/<int:token_id>/revoke")
@login_required
def revoke(token_id: int):
    if EmptyForm().validate_on_submit():
        from webapp.chat.cluster import disconnect_token

        token = accounts.revoke_token(current_user, token_id)
        disconnect_token(token.id)
        audit.record("token_revoked", actor=current_user, target=f"token:{token.id}",
                     details={"name": token.name, "prefix": token.prefix})
        flash(f"Token '{token.name}' revoked; its connections were closed.")
    return redirect(url_for("auth.settings"))


@bp.post("/read-receipts")
@login_required
def read_receipts():
    """The settings page's receipts checkbox: the ``read_receipts`` operation, from a form."""
    form = ReceiptsForm()
    if form.validate_on_submit():
        from webapp.chat import reads, service

        member = service.connect(None, None, user=current_user._get_current_object(),
                                 address=request.remote_addr)
        try:
            reads.set_receipts(member, {"on": form.send_receipts.data})
        except AppError as exc:
            flash(exc.message)
        else:
            flash("Read receipts are on." if form.send_receipts.data else "Read receipts are off.")
    return redirect(url_for("auth.settings"))

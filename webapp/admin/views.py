"""Console pages for people: accounts, API tokens, bans and invitation links."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from webapp.admin.actions import (
    PAGE,
    as_member,
    create_account,
    deactivate,
    reactivate,
    reset_password,
    search_users,
    set_role,
)
from webapp.admin.actions import revoke_token as revoke_any_token
from webapp.admin.actions import tokens as live_tokens
from webapp.admin.actions import user as user_by_id
from webapp.admin.forms import EmptyForm, InvitationForm, LiftForm, NameForm
from webapp.auth.invitation_views import create_from, invitation_context
from webapp.chat import moderation
from webapp.errors import AppError

bp = Blueprint("admin", __name__)


def admin():
    return current_user._get_current_object()


def _done(message: str, endpoint: str, **values):
    flash(message)
    return redirect(url_for(endpoint, **values))


def _failed(exc: AppError, endpoint: str, **values):
    flash(f"{exc.message} ({exc.code})")
    return redirect(url_for(endpoint, **values))


# -- users -------------------------------------------------------------------------------------
@bp.get("/users")
def users():
    query = request.args.get("q", "").strip()[:32]
    after = request.args.get("after", 0, type=int)
    found = search_users(query, after=after)
    more = len(found) == PAGE
    return render_template("admin/users.html", users=found, query=query, form=EmptyForm(),
                           create_form=NameForm(formdata=None),
                           next_after=found[-1].id if more else None)


@bp.post("/users")
def create_user():
    form = NameForm()
    if not form.validate_on_submit():
        return render_template("admin/users.html", users=[], query="", form=EmptyForm(),
                               create_form=form, next_after=None), 400
    try:
        user, clear = create_account(admin(), form.name.data.strip())
    except AppError as exc:
        return _failed(exc, "admin.users")
    return _secret(f"Account '{user.name}' created.", clear)


def _secret(message: str, password: str):
    """A temporary password, shown this once (never flashed: the session cookie is readable)."""
    return render_template("admin/secret.html", message=message, password=password)


USER_ACTIONS = ("deactivate", "reactivate", "promote", "demote", "reset-password")


@bp.post("/users/<int:user_id>/<action>")
def user_action(user_id: int, action: str):
    if action not in USER_ACTIONS:
        return _failed(AppError("No such action.", code="not_found"), "admin.users")
    EmptyForm().validate_on_submit() or _csrf_refused()
    target = user_by_id(user_id)
    try:
        if action == "reset-password":
            clear = reset_password(admin(), target)
            return _secret(f"New temporary password for '{target.name}'; their logins ended.", clear)
        if action == "deactivate":
            deactivate(admin(), target, request.remote_addr)
        elif action == "reactivate":
            reactivate(admin(), target, request.remote_addr)
        else:
            set_role(admin(), target, action == "promote")
    except AppError as exc:
        return _failed(exc, "admin.users", q=target.name)
    return _done(f"{target.name}: {action} done.", "admin.users", q=target.name)


def _csrf_refused():
    """Unreachable with CSRFProtect on (it refuses first); kept so a form never acts unchecked."""
    raise AppError("The form is missing its CSRF token.", code="csrf_failed", status=400)


# -- tokens ------------------------------------------------------------------------------------
@bp.get("/tokens")
def tokens():
    after = request.args.get("after", 0, type=int)
    found = live_tokens(after)
    more = len(found) == PAGE
    return render_template("admin/tokens.html", tokens=found, form=EmptyForm(),
                           next_after=found[-1].id if more else None)


@bp.post("/tokens/<int:token_id>/revoke")
def revoke_token(token_id: int):
    EmptyForm().validate_on_submit() or _csrf_refused()
    token = revoke_any_token(admin(), token_id)
    return _done(f"Token '{token.name}' of {token.user.name} revoked; its connections closed.",
                 "admin.tokens")


# -- bans --------------------------------------------------------------------------------------
@bp.get("/bans")
def bans():
    listed = moderation.list_bans(as_member(admin(), request.remote_addr), {"limit": 200})
    return render_template("admin/bans.html", bans=listed, form=LiftForm(formdata=None))


@bp.post("/bans/lift")
def lift_ban():
    form = LiftForm()
    form.validate_on_submit() or _csrf_refused()
    data = {key: value.strip() for key, value in
            (("user", form.user.data), ("address", form.address.data)) if value and value.strip()}
    try:
        lifted = moderation.unban(as_member(admin(), request.remote_addr), data)
    except AppError as exc:
        return _failed(exc, "admin.bans")
    return _done(f"{lifted} ban(s) lifted.", "admin.bans")


# -- invitations -------------------------------------------------------------------------------
def _invitations_page(form: InvitationForm | None = None, link: str | None = None):
    context = invitation_context(None, create_url=url_for("admin.create_invitation"),
                                 revoke_endpoint="admin.revoke_invitation", form=form, link=link)
    return render_template("admin/invitations.html", **context)


@bp.get("/invitations")
def invitations():
    return _invitations_page()


@bp.post("/invitations")
def create_invitation():
    form = InvitationForm()
    link, _ = create_from(form, admin())
    if link is None:
        return _invitations_page(form), 400
    flash("Invitation created. Copy the link now: it is shown only once.")
    return _invitations_page(link=link)


@bp.post("/invitations/<int:invitation_id>/revoke")
def revoke_invitation(invitation_id: int):
    from webapp import invitations as links

    EmptyForm().validate_on_submit() or _csrf_refused()
    links.revoke(admin(), invitation_id)
    return _done("Invitation revoked.", "admin.invitations")

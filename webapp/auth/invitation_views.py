"""Invitation links on the settings page, for accounts that are not admins (INVITES_BY_MEMBERS);
admins manage every link in the console (webapp/admin/). Both show templates/auth/_invitations.html."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, url_for
from flask_login import current_user, login_required

from webapp import invitations
from webapp.auth.forms import EmptyForm, InvitationForm
from webapp.auth.views import _settings_page, bp
from webapp.errors import AppError
from webapp.models import Invitation, User, iso


def invitation_context(owner: User | None, *, create_url: str, revoke_endpoint: str,
                       form: InvitationForm | None = None, link: str | None = None) -> dict:
    """What templates/auth/_invitations.html needs: ``owner``'s links (None: everyone's)."""
    return {
        "invitation_form": form or InvitationForm(formdata=None),
        "invitations": invitations.listed(owner), "invitation_link": link,
        "create_url": create_url, "revoke_endpoint": revoke_endpoint,
        "invitation_revoke_form": EmptyForm(), "registration": current_app.config["REGISTRATION"],
        "iso": iso, "invitation_status": invitations.status,
    }


def create_from(form: InvitationForm, user: User) -> tuple[str | None, Invitation | None]:
    """Create a link from a submitted form; answers (the link, the row) or (None, None) with the
    form's errors set."""
    if not form.validate_on_submit():
        return None, None
    try:
        invitation, clear = invitations.create(
            user, max_uses=form.max_uses.data,
            hours=form.days.data * 24.0 if form.days.data else None)
    except AppError as exc:
        form.max_uses.errors.append(exc.message)
        return None, None
    return url_for("auth.register", invite=clear, _external=True), invitation


def member_context(form: InvitationForm | None = None, link: str | None = None) -> dict:
    """The settings page's invitations section, or nothing when this account may not invite
    (admins use the console)."""
    user = current_user._get_current_object()
    if user.is_admin or not invitations.may_create(user):
        return {}
    return invitation_context(user, create_url=url_for("auth.create_invitation"),
                              revoke_endpoint="auth.revoke_invitation", form=form, link=link)


@bp.post("/invitations")
@login_required
def create_invitation():
    if current_user.is_admin or not invitations.may_create(current_user):
        abort(403)
    form = InvitationForm()
    link, _ = create_from(form, current_user._get_current_object())
    if link is None:
        return _settings_page(**member_context(form)), 400
    flash("Invitation created. Copy the link now: it is shown only once.")
    return _settings_page(**member_context(link=link))


@bp.post("/invitations/<int:invitation_id>/revoke")
@login_required
def revoke_invitation(invitation_id: int):
    if EmptyForm().validate_on_submit():
        invitations.revoke(current_user._get_current_object(), invitation_id)
        flash("Invitation revoked.")
    return redirect(url_for("auth.settings"))

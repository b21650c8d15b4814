"""The console's forms; each carries a CSRF token (Flask-WTF)."""
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import InputRequired, Length, Optional

from webapp.auth.forms import EmptyForm, InvitationForm

__all__ = ["EmptyForm", "InvitationForm", "LiftForm", "NameForm"]


class NameForm(FlaskForm):
    """One account's name: a new account, a room's new owner."""

    name = StringField("Name", validators=[InputRequired(), Length(max=32)])


class LiftForm(FlaskForm):
    user = StringField("User or guest name", validators=[Optional(), Length(max=32)])
    address = StringField("Address", validators=[Optional(), Length(max=64)])

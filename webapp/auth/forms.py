"""Flask-WTF forms: every one carries a CSRF token."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import EqualTo, InputRequired, Length, Regexp

from webapp.accounts import MIN_PASSWORD
from webapp.validation import NAME_RE


class LoginForm(FlaskForm):
    name = StringField("Name", validators=[InputRequired(), Length(max=32)])
    password = PasswordField("Password", validators=[InputRequired(), Length(max=256)])
    remember = BooleanField("Keep me logged in")


class RegisterForm(FlaskForm):
    name = StringField(
        "Name",
        validators=[
            InputRequired(),
            Regexp(f"^{NAME_RE.pattern}$", message="1-32 letters, digits, '_' or '-'."),
        ],
    )
    password = PasswordField(
        "Password", validators=[InputRequired(), Length(min=MIN_PASSWORD, max=256)]
    )
    confirm = PasswordField("Repeat password", validators=[EqualTo("password", "Passwords differ.")])


class PasswordForm(FlaskForm):
    current_password = PasswordField(
        "Current password", validators=[InputRequired(), Length(max=256)]
    )
    new_password = PasswordField(
        "New password", validators=[InputRequired(), Length(min=MIN_PASSWORD, max=256)]
    )
    confirm_password = PasswordField(
        "Repeat new password", validators=[EqualTo("new_password", "Passwords differ.")]
    )


class TokenForm(FlaskForm):
    name = StringField("Token name", validators=[InputRequired(), Length(min=1, max=64)])


class EmptyForm(FlaskForm):
    """For POST-only buttons (log out, revoke): the CSRF token is the whole form."""


class ReceiptsForm(FlaskForm):
    """Read receipts (issue 18): whether others see how far you have read."""

    send_receipts = BooleanField("Let others see what I have read (\u201cSeen\u201d in direct messages "
                                 "and small private rooms)")

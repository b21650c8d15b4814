"""Flask-WTF forms: every one carries a CSRF token."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, IntegerField, PasswordField, StringField
from wtforms.validators import EqualTo, InputRequired, Length, NumberRange, Optional, Regexp

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


# Team admin (issue 20): registration invitations (the settings page and the admin console).
class InvitationForm(FlaskForm):
    max_uses = IntegerField("Uses", validators=[Optional(), NumberRange(min=1, max=1000)])
    days = IntegerField("Expires after (days)", validators=[Optional(), NumberRange(min=1, max=366)],
                        default=7)


# -- Sign-in (issue 20) -----------------------------------------------------------------------


class CodeForm(FlaskForm):
    """A TOTP code, or at login a recovery code instead."""

    code = StringField("Code", validators=[InputRequired(), Length(max=64)])


class DisableTwoFactorForm(FlaskForm):
    secret = PasswordField("A code from your app, or your password",
                           validators=[InputRequired(), Length(max=256)])


# One "@", a dot in the domain, no spaces: enough to catch a typo; the mail server decides the rest.
_email = Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message="That is not an e-mail address.")


class EmailForm(FlaskForm):
    """The reset address: whoever sets it can reset the password, so it takes the password."""

    email = EmailField("E-mail address", validators=[Optional(), Length(max=254), _email])
    email_password = PasswordField("Your password", validators=[InputRequired(), Length(max=256)])


class ForgotForm(FlaskForm):
    email = EmailField("E-mail address", validators=[InputRequired(), Length(max=254), _email])


class ResetForm(FlaskForm):
    new_password = PasswordField(
        "New password", validators=[InputRequired(), Length(min=MIN_PASSWORD, max=256)]
    )
    confirm_password = PasswordField(
        "Repeat new password", validators=[EqualTo("new_password", "Passwords differ.")]
    )


class ReceiptsForm(FlaskForm):
    """Read receipts (issue 18): whether others see how far you have read."""

    send_receipts = BooleanField("Let others see what I have read (\u201cSeen\u201d in direct messages "
                                 "and small private rooms)")

"""Two-factor authentication: TOTP codes (RFC 6238, pyotp) and one-time recovery codes.

A user enrols (a pending secret), confirms with a code from their app (enabled, ten recovery
codes shown once), and from then on a login asks for a code after the password
(webapp/auth/twofactor.py). A code is good once: the time step of the last one accepted is kept,
and only a later step passes, so a code seen over a shoulder or in a proxy log is spent.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import io
import secrets
import time

import pyotp
from sqlalchemy import delete, select, update

from webapp import audit
from webapp.extensions import db
from webapp.models import RecoveryCode, TwoFactor, User, utcnow

STEP = 30  # seconds per code, what every authenticator app assumes
WINDOW = 1  # steps either side accepted: a phone's clock a little off, a code typed slowly
RECOVERY_CODES = 10
ISSUER = "Parley"


def factor(user: User) -> TwoFactor | None:
    return db.session.get(TwoFactor, user.id)


def enabled(user: User) -> bool:
    row = factor(user)
    return row is not None and row.enabled_at is not None


def required(user: User, config) -> bool:
    """Whether ``user`` must enrol before using a login session (REQUIRE_2FA_FOR_ADMINS)."""
    return bool(config.get("REQUIRE_2FA_FOR_ADMINS")) and user.is_admin and not enabled(user)


def begin(user: User) -> TwoFactor:
    """The pending secret for ``user``, made on first call: reloading the page keeps the one
    already scanned. An enabled factor is returned as it is."""
    row = factor(user)
    if row is None:
        row = TwoFactor(user_id=user.id, secret=pyotp.random_base32(), last_step=0)
        db.session.add(row)
        db.session.commit()
    return row


def uri(user: User, row: TwoFactor) -> str:
    """The otpauth:// URI authenticator apps read (from the QR code, or typed in)."""
    return pyotp.TOTP(row.secret).provisioning_uri(name=user.name, issuer_name=ISSUER)


def qr_svg(text: str) -> str:
    """``text`` as an SVG QR code: pure Python, no image library."""
    import qrcode.image.svg  # only the enrolment page needs it

    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode()
    return svg[svg.index("<svg"):]  # inline in the page: without the XML declaration


def confirm(user: User, code: str) -> list[str] | None:
    """Enable the pending secret if ``code`` is right: the recovery codes (clear, shown once)."""
    row = factor(user)
    if row is None or row.enabled_at is not None or not check_code(row, code):
        return None
    row.enabled_at = utcnow()
    codes = _new_recovery_codes(user)
    db.session.commit()
    audit.record("2fa_enabled", actor=user, target=f"user:{user.name}")
    return codes


def disable(user: User) -> None:
    """Turn two-factor off: the secret and every recovery code go."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.execute(delete(TwoFactor).where(TwoFactor.user_id == user.id))
    db.session.commit()
    audit.record("2fa_disabled", target=f"user:{user.name}")


def check_code(row: TwoFactor, code: object) -> bool:
    """Whether ``code`` is a TOTP code of ``row`` not used before; spends it if so."""
    if not isinstance(code, str):
        return False
    code = code.replace(" ", "").strip()
    if not (len(code) == 6 and code.isascii() and code.isdigit()):
        return False
    totp = pyotp.TOTP(row.secret)
    now = int(time.time()) // STEP
    for step in range(now - WINDOW, now + WINDOW + 1):
        if step > row.last_step and hmac.compare_digest(totp.at(step * STEP), code):
            # Spent atomically: of two requests racing with one code, one update matches.
            spent = db.session.execute(
                update(TwoFactor)
                .where(TwoFactor.user_id == row.user_id, TwoFactor.last_step < step)
                .values(last_step=step)
            ).rowcount
            db.session.commit()
            row.last_step = step
            return spent == 1
    return False


def verify(user: User, code: object) -> str | None:
    """Check a login's second step: "totp", "recovery" (a recovery code, now spent) or None."""
    row = factor(user)
    if row is None or row.enabled_at is None:
        return None
    if check_code(row, code):
        return "totp"
    if use_recovery_code(user, code):
        audit.record("2fa_recovery_code_used", actor=user, target=f"user:{user.name}")
        return "recovery"
    return None


def use_recovery_code(user: User, code: object) -> bool:
    if not isinstance(code, str) or len(code) > 64:
        return False
    digest = _digest(code)
    spent = db.session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.code_hash == digest,
               RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow())
    ).rowcount
    db.session.commit()
    return spent == 1


def recovery_codes_left(user: User) -> int:
    query = select(RecoveryCode.id).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    return len(db.session.scalars(query).all())


def _new_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    # 10 characters of base32 each: 50 random bits, so a fast hash is enough (as for tokens)
    # and RATE_LIMIT_LOGIN keeps guessing hopeless.
    codes = [_format(secrets.token_bytes(7)) for _ in range(RECOVERY_CODES)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_digest(code)) for code in codes)
    return codes


def _format(raw: bytes) -> str:
    text = base64.b32encode(raw).decode().lower()[:10]
    return f"{text[:5]}-{text[5:]}"


def _digest(code: str) -> str:
    normal = code.strip().lower().replace("-", "").replace(" ", "")
    return hashlib.sha256(normal.encode()).hexdigest()

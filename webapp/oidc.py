"""OpenID Connect single sign-on (Authlib): the client, and which account an identity logs in to.

Authlib does the protocol: discovery (OIDC_ISSUER/.well-known/openid-configuration), the
authorization code flow with PKCE (S256), state and nonce, and the ID token's checks (signature
against the provider's JWKS, iss, aud, exp, iat, nonce). This module decides the account.

Account linking rules (docs/operations.md, "Single sign-on"):
- An identity is its provider's (issuer, subject): it logs in to the one account it is linked to.
- A first login creates a NEW account, named after ``preferred_username`` (else the e-mail's
  local part), made unique with a number. It never takes over an existing local account, even
  one with the same name or e-mail address: a local user links their identity from their
  settings, while logged in.
- OIDC_ALLOWED_DOMAINS: the ID token must carry a verified e-mail in one of them, at every login.
- OIDC_ADMIN_GROUP: at every login the account is made admin if the group claim lists the group,
  and not admin otherwise.
"""
from __future__ import annotations

import re

from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from webapp import accounts, audit
from webapp.errors import AppError
from webapp.extensions import db
from webapp.models import OidcIdentity, User
from webapp.validation import RESERVED_NAMES

# Not a password hash: no password matches it (Werkzeug finds no method in it), so an account
# made by single sign-on has no password login until its owner sets one by a reset e-mail.
NO_PASSWORD = "!sso"
LEEWAY = 60  # seconds of clock difference with the provider allowed on iat and exp


def init_app(app: Flask) -> None:
    """Register the provider when OIDC_ISSUER is set; its metadata is fetched on first use."""
    if not app.config.get("OIDC_ISSUER"):
        return
    # Imported here: Authlib and cryptography take a while to import (~0.2 s), which servers
    # without single sign-on need not pay at every start.
    from authlib.integrations.flask_client import OAuth

    oauth = OAuth(app)
    oauth.register(
        "oidc",
        client_id=app.config["OIDC_CLIENT_ID"],
        client_secret=app.config["OIDC_CLIENT_SECRET"],
        server_metadata_url=f"{app.config['OIDC_ISSUER']}/.well-known/openid-configuration",
        client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256",
                       "timeout": 10},
    )
    app.extensions["parley.oidc"] = oauth.oidc


def enabled(config) -> bool:
    return bool(config.get("OIDC_ISSUER"))


def client():
    return current_app.extensions["parley.oidc"]


def identities(user: User) -> list[OidcIdentity]:
    return list(db.session.scalars(select(OidcIdentity).where(OidcIdentity.user_id == user.id)))


def refuse(message: str, code: str) -> AppError:
    return AppError(message, code=code, status=403)


def check_domain(claims: dict, config) -> None:
    domains = config.get("OIDC_ALLOWED_DOMAINS") or []
    if not domains:
        return
    email = claims.get("email")
    if not isinstance(email, str) or claims.get("email_verified") is not True:
        raise refuse("Your provider did not vouch for an e-mail address.", "domain_not_allowed")
    if email.rpartition("@")[2].lower() not in domains:
        raise refuse("Your e-mail domain may not sign in here.", "domain_not_allowed")


def log_in(claims: dict, *, link_to: User | None = None) -> User:
    """The account the checked ID token ``claims`` log in to (made, or linked to ``link_to``)."""
    config = current_app.config
    check_domain(claims, config)
    issuer, subject = claims.get("iss"), claims.get("sub")
    if not isinstance(subject, str) or not subject or len(subject) > 255:
        raise refuse("The provider sent no usable subject.", "oidc_failed")
    identity = db.session.scalar(select(OidcIdentity).where(
        OidcIdentity.issuer == issuer, OidcIdentity.subject == subject))
    linked = link_to is not None and identity is None
    if link_to is not None:
        user = _link(identity, link_to, issuer, subject, claims)
    elif identity is not None:
        user = db.session.get(User, identity.user_id)
    else:
        user = _new_account(claims)
        db.session.add(OidcIdentity(issuer=issuer, subject=subject, user_id=user.id,
                                    email=_verified_email(claims)))
    if user.banned_at is not None:
        raise refuse("This account is deactivated.", "banned")
    _map_admin(user, claims, config)
    db.session.commit()
    audit.record("oidc_linked" if linked else "oidc_login", actor=user,
                 target=f"user:{user.name}", details={"issuer": issuer, "subject": subject})
    return user


def _link(identity, user: User, issuer: str, subject: str, claims: dict) -> User:
    if identity is not None and identity.user_id != user.id:
        raise refuse("This identity is linked to another account.", "identity_taken")
    if identity is None:
        db.session.add(OidcIdentity(issuer=issuer, subject=subject, user_id=user.id,
                                    email=_verified_email(claims)))
    return user


def _map_admin(user: User, claims: dict, config) -> None:
    group = config.get("OIDC_ADMIN_GROUP")
    if not group:
        return
    groups = claims.get(config.get("OIDC_GROUPS_CLAIM") or "groups") or []
    if isinstance(groups, str):
        groups = groups.split()
    user.is_admin = isinstance(groups, list) and group in groups


def _verified_email(claims: dict) -> str | None:
    email = claims.get("email")
    ok = isinstance(email, str) and claims.get("email_verified") is True and len(email) <= 254
    return email if ok else None


def _new_account(claims: dict) -> User:
    """A new account for a first login; the name made valid and unique, never an existing one."""
    wanted = claims.get("preferred_username") or (claims.get("email") or "").partition("@")[0]
    base = re.sub(r"[^A-Za-z0-9_-]", "", str(wanted))[:28] or "user"
    email = _verified_email(claims)
    taken_email = email and db.session.scalar(
        select(User.id).where(User.email == email.lower()))
    for n in range(1, 1000):
        name = base if n == 1 else f"{base[:28]}-{n}"
        if name.casefold() in RESERVED_NAMES or accounts.find_user(name) is not None:
            continue
        user = User(name=name, name_key=name.casefold(), password_hash=NO_PASSWORD,
                    email=None if taken_email or not email else email.lower())
        db.session.add(user)
        try:
            db.session.flush()
        except IntegrityError:  # registered meanwhile
            db.session.rollback()
            continue
        return user
    raise refuse("No free account name; ask an admin.", "oidc_failed")

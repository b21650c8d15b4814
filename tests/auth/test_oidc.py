"""OpenID Connect single sign-on against a real provider on loopback (tests/oidc_provider.py):
discovery, authorization code + PKCE, state and nonce, ID token checks, and the account rules."""
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from flask_migrate import upgrade

from tests.auth.test_accounts import csrf_token
from tests.oidc_provider import Provider
from webapp import accounts, create_app
from webapp.extensions import socketio
from webapp.models import OidcIdentity

PUBLIC_URL = "http://chat.example.test"


@pytest.fixture
def provider():
    with Provider() as running:
        yield running


def make_app(tmp_path, provider, **settings):
    client_id, secret = provider.register(f"{PUBLIC_URL}/auth/oidc/callback")
    app = create_app({
        "TESTING": True, "SECRET_KEY": "test-secret", "ASYNC_MODE": "threading",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'oidc.sqlite3'}",
        "FILE_DIR": str(tmp_path / "files"), "LOG_LEVEL": "WARNING", "PUBLIC_URL": PUBLIC_URL,
        "OIDC_ISSUER": provider.issuer, "OIDC_CLIENT_ID": client_id,
        "OIDC_CLIENT_SECRET": secret, **settings,
    })
    with app.app_context():
        upgrade()
    return app


@pytest.fixture
def app(tmp_path, provider):
    return make_app(tmp_path, provider)


def sign_in(client, start="/auth/oidc/login", method="get", data=None):
    """The browser's round trip: to the provider (over HTTP), and back with its answer."""
    away = client.post(start, data=data) if method == "post" else client.get(start)
    assert away.status_code == 302, away.text
    at_provider = requests.get(away.location, allow_redirects=False, timeout=30)
    assert at_provider.status_code == 302, at_provider.text
    back = urlparse(at_provider.headers["Location"])
    assert f"{back.scheme}://{back.netloc}" == PUBLIC_URL
    return client.get(f"{back.path}?{back.query}")


def logged_in_as(client) -> str | None:
    page = client.get("/auth/settings")
    if page.status_code != 200:
        return None
    return page.text.split("Logged in as <strong>")[1].split("<")[0]


def test_a_first_login_creates_an_account_and_the_next_finds_it(app, client, provider):
    away = client.get("/auth/oidc/login")
    query = parse_qs(urlparse(away.location).query)
    assert query["code_challenge_method"] == ["S256"] and query["nonce"] and query["state"]
    assert sign_in(client).status_code == 302
    assert logged_in_as(client) == "alice"
    assert socketio.test_client(app, flask_test_client=client).is_connected()
    # PKCE: the token request carried the verifier and the client's secret
    assert provider.token_requests[-1]["code_verifier"]
    fresh = app.test_client()
    sign_in(fresh)
    assert logged_in_as(fresh) == "alice"
    with app.app_context():
        assert OidcIdentity.query.count() == 1
        assert accounts.find_user("alice").email == "alice@example.com"


def test_an_existing_local_account_is_never_taken_over(app, client, provider):
    with app.app_context():
        accounts.create_user("alice", "correct horse battery")
    sign_in(client)
    assert logged_in_as(client) == "alice-2"


def test_a_local_user_links_their_identity_from_settings(app, client, provider):
    with app.app_context():
        accounts.create_user("bob", "correct horse battery")
    client.post("/auth/login", data={"name": "bob", "password": "correct horse battery",
                                     "csrf_token": csrf_token(client, "/auth/login")})
    linked = sign_in(client, "/auth/oidc/link", method="post",
                     data={"csrf_token": csrf_token(client, "/auth/settings")})
    assert linked.status_code == 302 and linked.location.endswith("/auth/settings")
    assert 'data-testid="oidc-linked"' in client.get("/auth/settings").text
    other = app.test_client()
    sign_in(other)
    assert logged_in_as(other) == "bob"


@pytest.mark.parametrize("forge, reason", [
    ("wrong_key", "BadSignatureError"),
    ("expired", "ExpiredTokenError"),
    ("audience", "azp"),  # another client's token: not for us
    ("issuer", "InvalidClaimError: invalid_claim: Invalid claim: 'iss'"),
])
def test_a_forged_or_expired_id_token_is_refused(app, client, provider, forge, reason, caplog):
    provider.forge = forge
    answer = sign_in(client)
    assert answer.status_code == 403 and 'data-code="oidc_failed"' in answer.text
    assert reason in caplog.text
    assert logged_in_as(client) is None
    with app.app_context():
        assert OidcIdentity.query.count() == 0


def test_a_replayed_or_foreign_callback_is_refused(app, client, provider):
    away = client.get("/auth/oidc/login")
    back = requests.get(away.location, allow_redirects=False, timeout=30).headers["Location"]
    stranger = app.test_client()  # no state in its session: a login CSRF attempt
    path = back[len(PUBLIC_URL):]
    assert stranger.get(path).status_code == 403 and logged_in_as(stranger) is None
    assert client.get(path).status_code == 302  # the right browser, once
    assert client.get(path).status_code == 403  # and never again


def test_a_provider_error_is_a_refusal_page(app, client):
    answer = client.get("/auth/oidc/callback?error=access_denied&state=x")
    assert answer.status_code == 403 and "oidc-refused" in answer.text


def test_domains_not_allowed_are_refused(tmp_path, provider):
    app = make_app(tmp_path, provider, OIDC_ALLOWED_DOMAINS=["example.org"])
    client = app.test_client()
    answer = sign_in(client)
    assert answer.status_code == 403 and 'data-code="domain_not_allowed"' in answer.text
    provider.person.update(email="alice@EXAMPLE.org", email_verified=False)
    assert sign_in(client).status_code == 403  # an unverified address does not count
    provider.person["email_verified"] = True
    assert sign_in(client).status_code == 302 and logged_in_as(client) == "alice"


def test_the_admin_group_makes_and_unmakes_admins(tmp_path, provider):
    app = make_app(tmp_path, provider, OIDC_ADMIN_GROUP="chat-admins")
    provider.person["groups"] = ["staff", "chat-admins"]
    sign_in(app.test_client())
    with app.app_context():
        assert accounts.find_user("alice").is_admin
    provider.person["groups"] = ["staff"]
    sign_in(app.test_client())
    with app.app_context():
        assert not accounts.find_user("alice").is_admin


def test_without_an_issuer_there_is_no_single_sign_on(tmp_path):
    app = create_app({"TESTING": True, "ASYNC_MODE": "threading", "SECRET_KEY": "x",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'none.sqlite3'}"})
    with app.app_context():
        upgrade()
    client = app.test_client()
    assert client.get("/auth/oidc/login").status_code == 404
    assert "oidc-login" not in client.get("/auth/login").text

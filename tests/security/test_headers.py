"""What the browser is told: CSP without inline script, cookie flags, no secret-less production."""
import pytest

from webapp import create_app


def test_pages_carry_a_strict_content_security_policy(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "object-src 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_the_page_has_no_inline_script(client):
    html = client.get("/").text
    assert "<script>" not in html and " on" + "click=" not in html


def test_session_cookies_are_httponly_and_samesite(client):
    client.get("/auth/login")  # the CSRF token puts something in the session
    cookie = client.get_cookie("session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"ENV": "production", "SECRET_KEY": "dev-only-not-secret", "ASYNC_MODE": "threading"})
    app = create_app({"ENV": "production", "SECRET_KEY": "x" * 40, "ASYNC_MODE": "threading",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/p.db"})
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_passwords_and_tokens_never_reach_the_log(app, client, caplog):
    from tests.auth.test_accounts import Auth

    caplog.set_level("DEBUG")
    Auth(client).register("logged", "a very secret password")
    Auth(client).login("logged", "wrong but secret password")
    assert "secret password" not in caplog.text

"""Login and registration limits on the real server, per real address.

Attacks tried: guessing with a new account name each time from one address (only the address
limit applies), the same while rotating ``X-Forwarded-For`` (without ``PROXY_FIX`` the header is
not believed), one name guessed from many addresses, and one address minting accounts. Each
attacker's address comes from binding the client socket to its own 127.0.0.x.
"""
import re

import pytest
import requests
import socketio

from tests.support import FromAddress, LiveServer, unique

pytestmark = pytest.mark.e2e

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
PASSWORD = "a long password here"
LOGIN_LIMIT = 10  # the documented defaults: RATE_LIMIT_LOGIN "10 per minute",
REGISTER_LIMIT = 10  # RATE_LIMIT_REGISTER "10 per hour"




class Browser:
    """One person at one address: fetches the form for its CSRF token, then submits it."""

    def __init__(self, url: str, address: str = "127.0.0.1") -> None:
        self.url, self.session = url, requests.Session()
        self.session.mount("http://", FromAddress(address))

    def submit(self, path: str, headers: dict | None = None, **data) -> requests.Response:
        token = CSRF.search(self.session.get(self.url + path, timeout=30).text).group(1)
        return self.session.post(
            self.url + path, data={**data, "csrf_token": token}, headers=headers or {},
            allow_redirects=False, timeout=30,
        )

    def login(self, name: str, password: str = PASSWORD, headers: dict | None = None) -> int:
        return self.submit("/auth/login", headers, name=name, password=password).status_code

    def register(self, name: str, headers: dict | None = None) -> requests.Response:
        return self.submit("/auth/register", headers, name=name, password=PASSWORD, confirm=PASSWORD)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Default limits; every test attacks from addresses of its own."""
    server = LiveServer(tmp_path_factory.mktemp("limits"))
    server.start()
    yield server
    server.stop()


def test_one_address_gets_the_documented_login_limit(server):
    guesser = Browser(server.url, "127.0.0.2")
    # a new name each time: only the address limit can stop this
    statuses = [guesser.login(unique("guess")) for _ in range(LOGIN_LIMIT + 1)]
    assert statuses == [400] * LOGIN_LIMIT + [429]


def test_rotating_x_forwarded_for_does_not_reset_the_limit(server):
    guesser = Browser(server.url, "127.0.0.3")
    statuses = [
        guesser.login(unique("guess"), headers={"X-Forwarded-For": f"198.51.100.{i}"})
        for i in range(LOGIN_LIMIT + 1)
    ]
    assert statuses == [400] * LOGIN_LIMIT + [429]


def test_one_account_is_limited_across_addresses_and_others_still_log_in(server):
    victim = unique("victim")
    assert server.flask("users", "create", victim, "--password", PASSWORD).startswith("created")
    statuses = [
        Browser(server.url, f"127.0.1.{i}").login(victim, "wrong password!!")
        for i in range(LOGIN_LIMIT + 1)
    ]
    assert statuses == [400] * LOGIN_LIMIT + [429]
    # the throttled address and the throttled name block only themselves
    other = unique("other")
    server.flask("users", "create", other, "--password", PASSWORD)
    assert Browser(server.url, "127.0.0.2").login(other) == 429  # that address is spent
    assert Browser(server.url, "127.0.2.1").login(other) == 302


def test_one_address_cannot_mint_accounts(server):
    minter = Browser(server.url, "127.0.0.4")
    names = [unique("mint") for _ in range(REGISTER_LIMIT + 1)]
    responses = [
        minter.register(name, headers={"X-Forwarded-For": f"198.51.100.{i}"})
        for i, name in enumerate(names)
    ]
    assert [r.status_code for r in responses] == [302] * REGISTER_LIMIT + [429]
    assert 1 <= int(responses[-1].headers["Retry-After"]) <= 3600
    assert "Too many new accounts" in responses[-1].text
    # the refused name was not registered: a guest may still take it
    guest = socketio.Client(reconnection=False)
    guest.connect(server.url, auth={"name": names[-1]}, wait_timeout=10)
    guest.disconnect()
    # another address registers as usual
    assert Browser(server.url, "127.0.0.5").register(unique("fresh")).status_code == 302


@pytest.fixture(scope="module")
def proxied(tmp_path_factory):
    """Behind one trusted proxy (PROXY_FIX=1), which appends the address it saw."""
    server = LiveServer(tmp_path_factory.mktemp("proxied"), PROXY_FIX="1")
    server.start()
    yield server
    server.stop()


def test_behind_a_proxy_the_address_it_saw_is_limited(proxied):
    guesser = Browser(proxied.url)
    # what the client claims comes first; the proxy's own entry is last, and only it is believed
    statuses = [
        guesser.login(unique("guess"), headers={"X-Forwarded-For": f"10.0.0.{i}, 203.0.113.7"})
        for i in range(LOGIN_LIMIT + 1)
    ]
    assert statuses == [400] * LOGIN_LIMIT + [429]
    # another client of the same proxy is not held up by it
    assert guesser.login(unique("guess"), headers={"X-Forwarded-For": "203.0.113.8"}) == 400

"""Sessions: a login cookie copied before a log out, a password change or a deactivation is
refused after it, and the user's live connections close.

The attacker holds a copy of the victim's session cookie or remember-me cookie (a shared
computer, a stolen laptop's profile, malware, a leaked HAR file) and replays it from its own
client: the settings page, the REST API, a Socket.IO connection and a plain WebSocket (/ws).
Each person's browser is a requests session bound to an address of its own (127.x.y.z), so the
login limits count each test alone.
"""
from __future__ import annotations

import json
import random
import re
import sqlite3
import struct

import pytest
import redis
import requests
import socketio
import websocket

from tests.support import ChatClient, FromAddress, LiveServer, unique

pytestmark = pytest.mark.e2e

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
PASSWORD = "a long password here"
NEW_PASSWORD = "another long password"
LOGIN_LIMIT = 10  # RATE_LIMIT_LOGIN's default, "10 per minute"
CLOSED_WITHIN = 5.0




class Browser:
    """One person's browser: a cookie jar at an address of its own, filling in the forms."""

    def __init__(self, url: str) -> None:
        self.url, self.session = url, requests.Session()
        self.address = f"127.{random.randrange(1, 255)}.{random.randrange(256)}.{random.randrange(1, 255)}"
        self.session.mount("http://", FromAddress(self.address))

    def submit(self, path: str, form_page: str | None = None, **data) -> requests.Response:
        page = self.session.get(self.url + (form_page or path), timeout=30)
        token = CSRF.search(page.text).group(1)
        return self.session.post(self.url + path, data={**data, "csrf_token": token},
                                 allow_redirects=False, timeout=30)

    def register(self, name: str) -> Browser:
        answer = self.submit("/auth/register", name=name, password=PASSWORD, confirm=PASSWORD)
        assert answer.status_code == 302, answer.text
        return self

    def login(self, name: str, password: str = PASSWORD, remember: bool = False) -> Browser:
        answer = self.submit("/auth/login", name=name, password=password,
                             **({"remember": "y"} if remember else {}))
        assert answer.status_code == 302, answer.text
        return self

    def logout(self) -> None:
        assert self.submit("/auth/logout", form_page="/auth/settings").status_code == 302

    def change_password(self, current: str, new: str, confirm: str | None = None):
        return self.submit("/auth/password", form_page="/auth/settings", current_password=current,
                           new_password=new, confirm_password=new if confirm is None else confirm)

    def create_token(self) -> str:
        page = self.submit("/auth/settings", name="bot")
        return re.search(r"<code>(pt_[^<]+)</code>", page.text).group(1)

    def cookie(self, *names: str) -> str:
        """A copy of some of this browser's cookies, as a ``Cookie`` header."""
        return "; ".join(f"{name}={self.session.cookies[name]}" for name in names)


# -- what a copied cookie gets ----------------------------------------------------------------
def settings_page(url: str, cookie: str) -> int:
    answer = requests.get(url + "/auth/settings", headers={"Cookie": cookie},
                          allow_redirects=False, timeout=10)
    assert answer.status_code == 200 or "/auth/login" in answer.headers["Location"]
    return answer.status_code


def rest_read(url: str, cookie: str) -> int:
    return requests.get(url + "/api/rooms/general/messages", headers={"Cookie": cookie},
                        timeout=10).status_code


class Refused(Exception):
    """A Socket.IO connection the server refused, with the error code it gave."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def socket_client(url: str, cookie: str, transports: list[str] | None = None, **auth) -> ChatClient:
    """A python-socketio connection sending ``cookie``, and ``auth`` if given."""
    client = ChatClient(url, "", transports=transports, headers={"Cookie": cookie})
    errors = []
    client.sio.on("connect_error", errors.append)
    try:
        client.sio.connect(url, auth=auth or None, transports=transports, headers=client.headers,
                           wait_timeout=10)
    except socketio.exceptions.ConnectionError:
        raise Refused(errors[0]["data"]["code"] if errors else "refused") from None
    return client


def socket_identity(url: str, cookie: str, **auth) -> tuple[str, bool] | str:
    """Who a Socket.IO connection with ``cookie`` posts as, (author, guest); or the refusal."""
    try:
        client = socket_client(url, cookie, **auth)
    except Refused as refusal:
        return refusal.code
    try:
        room = unique("probe")
        assert client.call("join", {"room": room})["ok"]
        message = client.call("message", {"room": room, "text": "who am I"})["message"]
        return message["author"], message["guest"]
    finally:
        client.close()


class PlainSocket:
    """/ws with a cookie, as the page's own ``WebSocket`` would open it."""

    def __init__(self, url: str, cookie: str) -> None:
        self.ws = websocket.create_connection(url.replace("http://", "ws://") + "/ws",
                                              header=[f"Cookie: {cookie}"], timeout=10)

    def identity(self) -> dict:
        """The welcome if the cookie admitted us; else the answer to an op sent unannounced."""
        self.ws.send(json.dumps({"op": "rooms", "ref": "who"}))
        frame = json.loads(self.ws.recv())
        return frame["data"] if frame.get("event") == "welcome" else frame["error"]

    def closed(self) -> int:
        """Read until the server's close frame; answer its status code."""
        while True:
            opcode, frame = self.ws.recv_data_frame(control_frame=True)
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                return struct.unpack("!H", frame.data[:2])[0]


def refuses(url: str, cookie: str, name: str) -> None:
    """Everything the copied ``cookie`` tries is refused, or a guest's at most."""
    assert settings_page(url, cookie) == 302  # to the login page
    assert rest_read(url, cookie) == 401
    assert socket_identity(url, cookie) == "auth_required"
    guest = unique("guest")
    assert socket_identity(url, cookie, name=guest) == (guest, True)
    assert socket_identity(url, cookie, name=name) == "name_registered"
    plain = PlainSocket(url, cookie)
    assert plain.identity()["code"] == "auth_required"
    plain.ws.close()


def admits(url: str, cookie: str, name: str) -> None:
    """The copied ``cookie`` is the user, on every door."""
    assert settings_page(url, cookie) == 200
    assert rest_read(url, cookie) == 200
    assert socket_identity(url, cookie) == (name, False)
    plain = PlainSocket(url, cookie)
    assert plain.identity() == {"user": name, "guest": False}
    plain.ws.close()


# -- log out ----------------------------------------------------------------------------------
def test_a_session_cookie_copied_before_logout_is_refused_after_it(live_server):
    name = unique("victim")
    victim = Browser(live_server.url).register(name)
    copied = victim.cookie("session")
    admits(live_server.url, copied, name)
    victim.logout()
    refuses(live_server.url, copied, name)


def test_a_remember_me_cookie_copied_before_logout_is_refused_after_it(live_server):
    name = unique("victim")
    Browser(live_server.url).register(name)
    laptop = Browser(live_server.url).login(name, remember=True)
    phone = Browser(live_server.url).login(name, remember=True)
    copied, other = laptop.cookie("remember_token"), phone.cookie("remember_token")
    assert copied != other  # every login's cookie is its own
    admits(live_server.url, copied, name)  # the remember-me cookie alone logs in
    laptop.logout()
    refuses(live_server.url, copied, name)
    refuses(live_server.url, other, name)  # logging out ends every device's login
    assert settings_page(live_server.url, phone.cookie("session", "remember_token")) == 302


def test_logout_closes_the_users_live_connections_but_not_their_bots(live_server):
    name = unique("victim")
    victim = Browser(live_server.url).register(name)
    token = victim.create_token()
    cookie = victim.cookie("session")
    over_websocket = socket_client(live_server.url, cookie, transports=["websocket"])
    over_polling = socket_client(live_server.url, cookie, transports=["polling"])
    plain = PlainSocket(live_server.url, cookie)
    assert plain.identity()["user"] == name
    bot = ChatClient(live_server.url, "bot").connect(token=token)
    bystander = ChatClient(live_server.url, unique("bystander")).connect()

    victim.logout()
    assert over_websocket.disconnected.wait(CLOSED_WITHIN)
    assert over_polling.disconnected.wait(CLOSED_WITHIN)
    assert plain.closed() == 1008  # policy: "revoked"
    # An API token is a credential of its own (revoked on the settings page): its bot stays.
    assert bot.call("rooms")["ok"] and bystander.call("rooms")["ok"]
    bot.close(), bystander.close()


# -- password change --------------------------------------------------------------------------
def test_a_password_change_ends_other_sessions_and_connections_but_keeps_this_one(live_server):
    url, name = live_server.url, unique("victim")
    other = Browser(url).register(name)
    changer = Browser(url).login(name, remember=True)
    others_copy, changers_copy = other.cookie("session"), changer.cookie("session", "remember_token")
    others_socket = socket_client(url, others_copy)
    others_plain = PlainSocket(url, others_copy)
    assert others_plain.identity()["user"] == name

    answer = changer.change_password(PASSWORD, NEW_PASSWORD)
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/auth/settings")
    assert others_socket.disconnected.wait(CLOSED_WITHIN)
    assert others_plain.closed() == 1008
    refuses(url, others_copy, name)
    refuses(url, changers_copy, name)  # a copy of this browser's cookies from before, too
    # This browser stays logged in with new cookies: the session, and the remember-me cookie.
    assert changer.cookie("remember_token") not in changers_copy
    admits(url, changer.cookie("session"), name)
    admits(url, changer.cookie("remember_token"), name)
    # The old password is gone, the new one works.
    assert Browser(url).submit("/auth/login", name=name, password=PASSWORD).status_code == 400
    Browser(url).login(name, NEW_PASSWORD)


@pytest.mark.parametrize("current, new, confirm", [
    ("wrong password!!", NEW_PASSWORD, None),  # the current password is wrong
    (PASSWORD, NEW_PASSWORD, "a different one!"),  # the two new ones differ
    (PASSWORD, "short", None),  # too short
])
def test_a_refused_password_change_changes_nothing(live_server, current, new, confirm):
    name = unique("victim")
    other = Browser(live_server.url).register(name)
    changer = Browser(live_server.url).login(name)
    assert changer.change_password(current, new, confirm).status_code == 400
    assert settings_page(live_server.url, other.cookie("session")) == 200
    Browser(live_server.url).login(name, PASSWORD)


def test_a_password_change_needs_the_csrf_token(live_server):
    name = unique("victim")
    victim = Browser(live_server.url).register(name)
    forged = victim.session.post(live_server.url + "/auth/password", allow_redirects=False, data={
        "current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD,
    }, timeout=30)
    assert forged.status_code == 400
    Browser(live_server.url).login(name, PASSWORD)


def test_password_changes_share_the_login_limit(live_server):
    """A stolen session must not get a second budget of guesses at the password."""
    name = unique("victim")
    thief = Browser(live_server.url).register(name)
    statuses = [thief.change_password(f"guess number {i}", NEW_PASSWORD).status_code
                for i in range(LOGIN_LIMIT + 1)]
    assert statuses == [400] * LOGIN_LIMIT + [429]
    refused = thief.change_password(PASSWORD, NEW_PASSWORD)  # even the right one, for now
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    # The account name's counter is the login's: logging in from elsewhere waits too.
    login = Browser(live_server.url).submit("/auth/login", name=name, password=PASSWORD)
    assert login.status_code == 429


# -- deactivation ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def server_with_redis(tmp_path_factory):
    """A server on Redis, so the CLI's order reaches it as it reaches every process."""
    url = "redis://127.0.0.1:6379/14"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("no Redis at 127.0.0.1:6379")
    server = LiveServer(tmp_path_factory.mktemp("sessions"), REDIS_URL=url)
    server.start()
    # Orders travel on one Redis channel that every server on this Redis hears (other test
    # runs too): start user ids somewhere no other test server's are, in both directions.
    with sqlite3.connect(server.workdir / "live.sqlite3") as db:
        seed = random.randrange(10**8, 2 * 10**9)
        db.execute("INSERT INTO users (id, name, name_key, password_hash, is_admin, created_at,"
                   " session_secret) VALUES (?, ?, ?, '!', 0, CURRENT_TIMESTAMP, '')",
                   (seed, f"seed-{seed}", f"seed-{seed}"))
    yield server
    server.stop()


def test_deactivation_ends_sessions_tokens_and_connections(server_with_redis):
    server, name = server_with_redis, unique("victim")
    victim = Browser(server.url).register(name)
    token = victim.create_token()
    remembered = Browser(server.url).login(name, remember=True).cookie("remember_token")
    cookie = victim.cookie("session")
    socket = socket_client(server.url, cookie)
    plain = PlainSocket(server.url, cookie)
    assert plain.identity()["user"] == name
    bot = ChatClient(server.url, "bot").connect(token=token)

    output = server.flask("users", "deactivate", name)
    assert "closed on every process" in output
    assert socket.disconnected.wait(CLOSED_WITHIN)
    assert bot.disconnected.wait(CLOSED_WITHIN)
    assert plain.closed() == 1008
    refuses(server.url, cookie, name)
    refuses(server.url, remembered, name)
    with pytest.raises(socketio.exceptions.ConnectionError):
        ChatClient(server.url, "bot").connect(token=token)
    assert Browser(server.url).submit("/auth/login", name=name, password=PASSWORD).status_code == 400

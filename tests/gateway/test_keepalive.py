"""Who may connect when guests are off, and how the gateway keeps connections honest in time.

The server here pings every 0.3 s, waits 0.4 s for an answer and 0.5 s for credentials.
"""
import pytest
import websocket

from tests.gateway.conftest import PlainClient, RawSocket, ws_url
from tests.support import unique
from webapp import accounts, create_app


@pytest.fixture(scope="module")
def token(strict_server):
    """An API token of a registered user, written into the server's own database."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": strict_server.env["DATABASE_URL"],
                      "ASYNC_MODE": "threading", "SECRET_KEY": "x", "LOG_LEVEL": "WARNING"})
    with app.app_context():
        user = accounts.create_user(unique("owner"), "a long password")
        return user.name, accounts.create_token(user, "bot")[1]


def test_guests_and_anonymous_connections_are_refused_when_guests_are_off(strict_server):
    guest = PlainClient(strict_server.url, name=unique("guest"))
    assert guest.reply()["error"]["code"] == "guests_disabled"
    status, reason = guest.closed()
    assert status == 1008 and reason.startswith("guests_disabled: Guests are not allowed")
    late = PlainClient(strict_server.url)
    assert late.call("auth", name=unique("guest"))["error"]["code"] == "guests_disabled"
    assert late.closed()[0] == 1008
    silent = PlainClient(strict_server.url)  # says nothing: closed after WS_AUTH_TIMEOUT
    assert silent.closed() == (1008, "auth_timeout: no credentials in time.")
    forged = PlainClient(strict_server.url, token="pt_not-a-real-token")
    assert forged.reply()["error"]["code"] == "invalid_token"


@pytest.mark.parametrize("how", ["query", "header", "frame"])
def test_a_token_is_accepted_three_ways(strict_server, token, how):
    name, clear = token
    if how == "query":
        client = PlainClient(strict_server.url, token=clear)
    elif how == "header":
        client = PlainClient(strict_server.url, header=[f"Authorization: Bearer {clear}"])
    else:
        client = PlainClient(strict_server.url)
        assert client.call("auth", token=clear) == {"ref": "r1", "ok": True, "user": name,
                                                    "guest": False}
    assert client.wait("welcome") == {"user": name, "guest": False}
    client.close()


def test_a_client_answering_pings_stays(strict_server, token):
    lively = websocket.create_connection(ws_url(strict_server.url, token=token[1]), timeout=10)
    lively.recv()  # welcome
    opcodes = []
    while len(opcodes) < 4:  # websocket-client answers each ping with a pong as it reads it
        opcode, _ = lively.recv_data_frame(control_frame=True)
        opcodes.append(opcode)
    assert opcodes == [websocket.ABNF.OPCODE_PING] * 4  # 1.2 s: three pong deadlines passed
    lively.send('{"op": "rooms", "ref": 1}')
    while (opcode := lively.recv_data_frame(control_frame=True))[0] != websocket.ABNF.OPCODE_TEXT:
        pass
    assert '"ok":true' in opcode[1].data.decode()
    lively.close()


def test_a_client_not_answering_pings_is_closed(strict_server, token):
    mute = RawSocket(strict_server.url, path=f"/ws?token={token[1]}")
    assert mute.read_json()["event"] == "welcome"
    assert mute.read()[0] == 0x9  # a ping, left unanswered
    assert mute.close_status() == (1001, "ping timeout: no answer to pings.")
    mute.close()

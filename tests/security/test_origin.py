"""Cross-site WebSocket hijacking: only the app's own origin (and the allow-list) may connect.

Attacks tried: a page on another origin opening a WebSocket, and the same over long-polling, with
the victim's cookies riding along (a browser sends them; the Origin header is what tells).
"""
import pytest
import requests
import websocket


def open_websocket(url: str, origin: str):
    """An Engine.IO WebSocket handshake as a browser on ``origin`` would make it."""
    ws_url = url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    return websocket.create_connection(ws_url, origin=origin, timeout=5)


def open_polling(url: str, origin: str):
    return requests.get(url + "/socket.io/?EIO=4&transport=polling", headers={"Origin": origin}, timeout=5)


def test_a_foreign_origin_cannot_open_a_websocket(live_server):
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        open_websocket(live_server.url, "https://evil.example")
    assert refused.value.status_code == 400


def test_a_foreign_origin_gets_no_polling_session(live_server):
    response = open_polling(live_server.url, "https://evil.example")
    assert response.status_code == 400 and '"sid"' not in response.text


def test_the_apps_own_origin_is_accepted(live_server):
    ws = open_websocket(live_server.url, live_server.url)
    assert ws.recv().startswith('0{"sid"')
    ws.close()
    assert '"sid"' in open_polling(live_server.url, live_server.url).text


def test_an_allow_listed_origin_is_accepted(fresh_server):
    fresh_server.env["ALLOWED_ORIGINS"] = "https://chat.example.org"
    fresh_server.start()
    ws = open_websocket(fresh_server.url, "https://chat.example.org")
    assert ws.recv().startswith('0{"sid"')
    ws.close()
    assert '"sid"' in open_polling(fresh_server.url, "https://chat.example.org").text
    with pytest.raises(websocket.WebSocketBadStatusException):
        open_websocket(fresh_server.url, "https://evil.example")
    # the app's own origin stays allowed beside the list
    assert '"sid"' in open_polling(fresh_server.url, fresh_server.url).text


def test_forwarded_headers_from_a_client_do_not_vouch_for_an_origin(live_server):
    response = requests.get(
        live_server.url + "/socket.io/?EIO=4&transport=polling",
        headers={"Origin": "https://evil.example", "X-Forwarded-Host": "evil.example",
                 "X-Forwarded-Proto": "https"},
        timeout=5,
    )
    assert response.status_code == 400

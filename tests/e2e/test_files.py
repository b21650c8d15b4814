"""Files through the real eventlet server: an image's cleaning and thumbnail run in a native
thread (off the hub) while the server keeps answering; downloads stream with ranges."""
import io
import threading

import requests
from PIL import Image

from tests.support import ChatClient, unique

PASSWORD = "a long password here"


def test_an_upload_is_examined_off_the_loop_and_served_to_the_room(live_server):
    name = unique("uploader")
    live_server.flask("users", "create", name, "--password", PASSWORD)
    token = live_server.flask("tokens", "create", name, "t")
    auth = {"Authorization": f"Bearer {token}"}
    room = unique("pics")
    watcher = ChatClient(live_server.url, unique("watch")).connect()
    watcher.call("join", {"room": room})
    image = io.BytesIO()
    Image.effect_noise((2000, 2000), 64).convert("RGB").save(image, format="PNG")  # CPU to decode
    answers = []

    def ping_meanwhile():  # the hub stays free while a native thread works on the image
        answers.extend(watcher.call("rooms", {"limit": 1})["ok"] for _ in range(5))

    pinger = threading.Thread(target=ping_meanwhile)
    pinger.start()
    response = requests.post(f"{live_server.url}/api/rooms/{room}/files", headers=auth,
                             files={"file": ("noise.png", image.getvalue())}, timeout=60)
    pinger.join(timeout=60)
    assert response.status_code == 201, response.text
    shown = response.json()["file"]
    assert (shown["type"], shown["width"], shown["height"]) == ("image/png", 2000, 2000)
    assert answers == [True] * 5
    sent = requests.post(f"{live_server.url}/api/rooms/{room}/messages", headers=auth,
                         json={"text": "noise", "files": [shown["id"]]}, timeout=10)
    assert sent.status_code == 201
    event = watcher.wait("message", lambda m: m["room"] == room)
    assert event["files"] == [shown]
    whole = requests.get(live_server.url + shown["url"], headers=auth, timeout=10)
    assert whole.status_code == 200 and whole.headers["X-Content-Type-Options"] == "nosniff"
    part = requests.get(live_server.url + shown["url"], headers={**auth, "Range": "bytes=100-199"},
                        timeout=10)
    assert part.status_code == 206 and part.content == whole.content[100:200]
    thumb = requests.get(live_server.url + shown["thumbnail_url"], headers=auth, timeout=10)
    assert Image.open(io.BytesIO(thumb.content)).size == (480, 480)
    assert requests.get(live_server.url + shown["url"], timeout=10).status_code == 404
    watcher.close()

"""Files: upload, attach, download, thumbnails -- every rule of webapp/chat/files.py, on both
storages (a directory, the database), through the HTTP routes."""
import io
from datetime import timedelta

import pytest
from PIL import Image

from tests.api.test_rooms import bearer
from webapp import accounts
from webapp.chat import files, rooms, service
from webapp.extensions import db, socketio
from webapp.models import File, FileChunk, utcnow

ROOM = "general"


@pytest.fixture(params=["directory", "database"])
def app_storage(app, request):
    app.config["FILE_STORAGE"] = request.param
    return app


@pytest.fixture
def tokens(app_storage):
    with app_storage.app_context():
        return {name: accounts.create_token(accounts.create_user(name, "long enough password"),
                                            "api")[1] for name in ("robot", "other", "outsider")}


def upload(client, token, data: bytes, name="f.bin", room=ROOM):
    return client.post(f"/api/rooms/{room}/files", headers=bearer(token),
                       data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def jpeg_with_exif(size=(64, 32), orientation=6) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x0112] = orientation  # rotate 90 degrees on display
    exif[0x8825] = {2: (48.0, 51.0, 24.0)}  # GPS latitude: where it was taken
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def send(client, token, text, ids):
    response = client.post(f"/api/rooms/{ROOM}/messages", headers=bearer(token),
                           json={"text": text, "files": ids})
    assert response.status_code == 201, response.json
    return response.json["message"]


def test_an_image_is_cleaned_thumbnailed_attached_and_served_to_readers_only(app_storage, client,
                                                                           tokens):
    listener = socketio.test_client(app_storage, auth={"name": "reader"})
    listener.emit("join", {"room": ROOM}, callback=True)
    response = upload(client, tokens["robot"], jpeg_with_exif(), "../../etc/photo.JPG")
    assert response.status_code == 201, response.json
    shown = response.json["file"]
    assert shown["name"] == "photo.JPG" and shown["type"] == "image/jpeg"
    assert (shown["width"], shown["height"]) == (32, 64)  # EXIF orientation applied
    # Before it is sent, only its uploader sees it.
    assert client.get(shown["url"], headers=bearer(tokens["other"])).status_code == 404
    assert client.get(shown["url"], headers=bearer(tokens["robot"])).status_code == 200
    listener.get_received()
    message = send(client, tokens["robot"], "look", [shown["id"]])
    assert message["files"] == [shown]
    [event] = [i["args"] for i in listener.get_received() if i["name"] == "message"]
    assert event["files"] == [shown]
    got = client.get(shown["url"], headers=bearer(tokens["other"]))
    assert got.status_code == 200 and got.headers["Content-Type"] == "image/jpeg"
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert got.headers["Content-Disposition"].startswith("inline")
    assert "sandbox" in got.headers["Content-Security-Policy"]
    served = Image.open(io.BytesIO(got.data))
    assert served.size == (32, 64) and not served.getexif()  # no orientation, no GPS left
    thumb = client.get(shown["thumbnail_url"], headers=bearer(tokens["other"]))
    assert thumb.status_code == 200 and Image.open(io.BytesIO(thumb.data)).size == (32, 64)
    assert client.get(shown["url"]).status_code == 404  # anonymous
    part = client.get(shown["url"], headers={**bearer(tokens["other"]), "Range": "bytes=0-9"})
    assert part.status_code == 206 and part.data == got.data[:10]
    again = client.get(shown["url"], headers={**bearer(tokens["other"]),
                                              "If-None-Match": got.headers["ETag"]})
    assert again.status_code == 304
    history = client.get(f"/api/rooms/{ROOM}/messages", headers=bearer(tokens["other"])).json
    assert history["messages"][-1]["files"] == [shown]


def test_a_private_rooms_files_are_for_its_members_only(app_storage, client, tokens):
    with app_storage.app_context():
        robot = service.connect({"token": tokens["robot"]}, None)
        rooms.create_room(robot, {"room": "secret", "private": True})
    shown = upload(client, tokens["robot"], b"secret notes\n", "notes.txt", room="secret").json["file"]
    assert upload(client, tokens["outsider"], b"x", room="secret").status_code == 404
    response = client.post("/api/rooms/secret/messages", headers=bearer(tokens["robot"]),
                           json={"text": "", "files": [shown["id"]]})
    assert response.status_code == 201 and response.json["message"]["text"] == ""
    text = client.get(shown["url"], headers=bearer(tokens["robot"]))
    assert text.data == b"secret notes\n" and text.headers["Content-Type"].startswith("text/plain")
    assert text.headers["Content-Disposition"].startswith("attachment")  # never rendered
    for guess in (shown["url"], f"/api/files/{shown['id'] + 1}/x", "/api/files/999/notes.txt"):
        assert client.get(guess, headers=bearer(tokens["outsider"])).status_code == 404


def test_types_by_content_sizes_and_quotas(app_storage, client, tokens):
    html = upload(client, tokens["robot"], b"<html><script>alert(1)</script></html>", "a.png")
    assert html.status_code == 201 and html.json["file"]["type"] == "text/plain"  # not HTML
    binary = upload(client, tokens["robot"], b"\x00\x01\x02binary", "x.txt")
    assert binary.status_code == 415 and binary.json["error"]["code"] == "unsupported_type"
    fake = upload(client, tokens["robot"], b"\x89PNG\r\n\x1a\nnot really", "x.png")
    assert fake.status_code == 415  # a PNG signature, no PNG behind it
    pdf = upload(client, tokens["robot"], b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "doc.pdf")
    assert pdf.status_code == 201 and pdf.json["file"]["type"] == "application/pdf"
    app_storage.config["MAX_UPLOAD_SIZE"] = 1000
    big = upload(client, tokens["robot"], b"a" * 1001, "big.txt")
    assert big.status_code == 413 and big.json["error"]["code"] == "too_large"
    app_storage.config["MAX_UPLOAD_SIZE"] = 10**6
    app_storage.config["USER_FILE_QUOTA"] = 200
    over = upload(client, tokens["robot"], b"b" * 150, "more.txt")
    assert over.status_code == 413 and over.json["error"]["code"] == "quota_exceeded"
    assert upload(client, tokens["other"], b"c" * 150, "mine.txt").status_code == 201  # per user


def test_a_decompression_bomb_is_refused(app_storage, client, tokens):
    app_storage.config["MAX_IMAGE_PIXELS"] = 10_000
    for side in (400, 120):  # 16 times the bound, and 1.44 times (where Pillow only warns)
        out = io.BytesIO()
        Image.new("L", (side, side)).save(out, format="PNG")  # a few hundred bytes
        bomb = upload(client, tokens["robot"], out.getvalue(), "bomb.png")
        assert bomb.status_code == 413 and bomb.json["error"]["code"] == "too_large"


def test_attaching_what_is_not_yours_and_guests(app_storage, client, tokens):
    theirs = upload(client, tokens["other"], b"theirs\n", "t.txt").json["file"]
    response = client.post(f"/api/rooms/{ROOM}/messages", headers=bearer(tokens["robot"]),
                           json={"text": "stolen", "files": [theirs["id"]]})
    assert response.status_code == 404 and response.json["error"]["code"] == "file_not_found"
    for bad in ([0], ["1"], list(range(1, 13)), "1"):
        response = client.post(f"/api/rooms/{ROOM}/messages", headers=bearer(tokens["robot"]),
                               json={"text": "x", "files": bad})
        assert response.json["error"]["code"] == "invalid_payload"
    guest = socketio.test_client(app_storage, auth={"name": "guesty"})
    guest.emit("join", {"room": ROOM}, callback=True)
    ack = guest.emit("message", {"room": ROOM, "text": "x", "files": [theirs["id"]]}, callback=True)
    assert ack["error"]["code"] == "forbidden"
    assert client.post(f"/api/rooms/{ROOM}/files", data={}, headers=bearer(tokens["robot"]),
                       content_type="multipart/form-data").status_code == 400


def test_deleting_the_message_deletes_its_files_and_unsent_uploads_expire(app_storage, client,
                                                                         tokens):
    kept = upload(client, tokens["robot"], b"kept\n", "k.txt").json["file"]
    message = send(client, tokens["robot"], "with a file", [kept["id"]])
    unsent = upload(client, tokens["robot"], b"never sent\n", "u.txt").json["file"]
    assert client.delete(f"/api/rooms/{ROOM}/messages/{message['id']}",
                         headers=bearer(tokens["robot"])).status_code == 204
    assert client.get(kept["url"], headers=bearer(tokens["robot"])).status_code == 404
    with app_storage.app_context():
        assert files.expire() == 0
        assert files.expire(now=utcnow() + timedelta(hours=25)) == 1
        assert db.session.query(File).count() == 0
        assert db.session.query(FileChunk).count() == 0  # (database storage: the bytes too)
    assert client.get(unsent["url"], headers=bearer(tokens["robot"])).status_code == 404


def test_the_page_uploads_with_its_session_and_csrf_token(app_storage, client):
    with app_storage.app_context():
        accounts.create_user("pageuser", "long enough password")
    app_storage.config["WTF_CSRF_ENABLED"] = True
    login = client.get("/auth/login")
    assert login.status_code == 200
    token = login.get_data(as_text=True).split('name="csrf_token" type="hidden" value="')[1]
    token = token.split('"')[0]
    client.post("/auth/login", data={"name": "pageuser", "password": "long enough password",
                                     "csrf_token": token})
    data = {"file": (io.BytesIO(b"from the page\n"), "p.txt")}
    refused = client.post(f"/api/rooms/{ROOM}/files", data=data, content_type="multipart/form-data")
    assert refused.status_code == 400 and refused.json["error"]["code"] == "csrf_failed"
    data = {"file": (io.BytesIO(b"from the page\n"), "p.txt")}
    ok = client.post(f"/api/rooms/{ROOM}/files", data=data, content_type="multipart/form-data",
                     headers={"X-CSRFToken": token})
    assert ok.status_code == 201, ok.json


def test_files_keep_the_order_sent_a_retry_shows_them_and_unsent_ones_can_be_taken_back(
        app_storage, client, tokens):
    first, second = (upload(client, tokens["robot"], f"{n}\n".encode(), f"{n}.txt").json["file"]
                     for n in ("one", "two"))
    body = {"text": "both", "files": [second["id"], first["id"]], "client_id": "c-files"}
    sent = client.post(f"/api/rooms/{ROOM}/messages", headers=bearer(tokens["robot"]), json=body)
    assert [f["name"] for f in sent.json["message"]["files"]] == ["two.txt", "one.txt"]
    again = client.post(f"/api/rooms/{ROOM}/messages", headers=bearer(tokens["robot"]), json=body)
    assert again.status_code == 200 and again.json["message"] == sent.json["message"]
    spare = upload(client, tokens["robot"], b"spare\n", "spare.txt").json["file"]
    assert client.delete(f"/api/files/{spare['id']}", headers=bearer(tokens["other"])
                         ).status_code == 404  # not theirs
    assert client.delete(f"/api/files/{first['id']}", headers=bearer(tokens["robot"])
                         ).status_code == 404  # sent already: it goes with its message
    assert client.delete(f"/api/files/{spare['id']}", headers=bearer(tokens["robot"])
                         ).status_code == 204
    assert client.get(spare["url"], headers=bearer(tokens["robot"])).status_code == 404

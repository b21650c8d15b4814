"""Profiles over REST (webapp/api/profiles.py): cards, changes, and avatars -- real PNG, JPEG and
GIF images made with Pillow, a file that is not an image, a decompression bomb -- on both
storages (a directory, the database)."""
import io

import pytest
from PIL import Image

from tests.api.test_rooms import bearer
from webapp import accounts
from webapp.extensions import db, socketio
from webapp.models import FileChunk


@pytest.fixture(params=["directory", "database"])
def app_storage(app, request):
    app.config["FILE_STORAGE"] = request.param
    return app


@pytest.fixture
def tokens(app_storage):
    with app_storage.app_context():
        return {name: accounts.create_token(accounts.create_user(name, "long enough password"),
                                            "api")[1] for name in ("robot", "other")}


def image(fmt: str, size=(300, 200), color=(10, 120, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format=fmt)
    return out.getvalue()


def put_avatar(client, token, data: bytes, name="me.png"):
    return client.put("/api/me/avatar", headers=bearer(token),
                      data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF"])
def test_an_uploaded_image_becomes_two_squares_served_to_anyone(app_storage, client, tokens, fmt):
    watcher = socketio.test_client(app_storage, auth={"token": tokens["robot"]})  # own tab
    response = put_avatar(client, tokens["robot"], image(fmt))
    assert response.status_code == 200, response.json
    card = response.json["profile"]
    assert card["avatar_url"].startswith("/api/users/robot/avatar?v=")
    assert [e["args"][0] for e in watcher.get_received() if e["name"] == "profile"] == [card]
    assert client.get("/api/users/robot", headers=bearer(tokens["other"])).json["profile"] == card
    anonymous = app_storage.test_client()
    for size, suffix in ((256, ""), (64, "&size=64"), (256, "&size=256")):
        served = anonymous.get(card["avatar_url"] + suffix)
        assert served.status_code == 200 and served.mimetype == "image/webp"
        assert served.headers["X-Content-Type-Options"] == "nosniff"
        assert "immutable" in served.headers["Cache-Control"]
        with Image.open(io.BytesIO(served.data)) as shown:
            assert shown.size == (size, size)
        again = anonymous.get(card["avatar_url"] + suffix,
                              headers={"If-None-Match": served.headers["ETag"]})
        assert again.status_code == 304
    assert anonymous.get("/api/users/robot/avatar").headers["Cache-Control"] == "no-cache"
    assert anonymous.get("/api/users/robot/avatar?size=32").status_code == 400


def test_a_new_avatar_replaces_the_old_and_removing_it_brings_back_the_badge(app_storage, client,
                                                                           tokens):
    first = put_avatar(client, tokens["robot"], image("PNG")).json["profile"]["avatar_url"]
    second = put_avatar(client, tokens["robot"], image("JPEG", color=(200, 0, 0))).json
    assert second["profile"]["avatar_url"] != first
    assert client.delete("/api/me/avatar", headers=bearer(tokens["robot"])).status_code == 204
    assert client.get("/api/users/robot", headers=bearer(tokens["robot"])).json["profile"][
        "avatar_url"] is None
    assert client.get("/api/users/robot/avatar").status_code == 404
    assert client.get("/api/users/other/avatar").status_code == 404  # never had one
    assert client.get("/api/users/nobody/avatar").status_code == 404
    with app_storage.app_context():  # the old squares' bytes are gone too (database storage)
        assert db.session.query(FileChunk).count() == 0


@pytest.mark.parametrize(("data", "status", "code"), [
    (b"just some text\n", 415, "unsupported_type"),
    (b"%PDF-1.4\n" + b"0" * 100, 415, "unsupported_type"),
    (image("PNG")[:60], 415, "unsupported_type"),  # a truncated PNG
    (b"", 400, "invalid_payload"),
])
def test_what_is_not_an_image_is_refused(app_storage, client, tokens, data, status, code):
    response = put_avatar(client, tokens["robot"], data)
    assert response.status_code == status and response.json["error"]["code"] == code
    assert client.get("/api/users/robot", headers=bearer(tokens["robot"])).json["profile"][
        "avatar_url"] is None


def test_a_decompression_bomb_and_an_oversized_file_are_refused(app_storage, client, tokens):
    app_storage.config["MAX_IMAGE_PIXELS"] = 10_000
    for side in (400, 120):  # 16 times the bound, and 1.44 times (where Pillow only warns)
        out = io.BytesIO()
        Image.new("L", (side, side)).save(out, format="PNG")  # a few hundred bytes
        bomb = put_avatar(client, tokens["robot"], out.getvalue())
        assert bomb.status_code == 413 and bomb.json["error"]["code"] == "too_large"
    app_storage.config.update(MAX_IMAGE_PIXELS=50_000_000, AVATAR_MAX_SIZE=1000)
    big = put_avatar(client, tokens["robot"], image("PNG", size=(500, 500)) + b"\0" * 2000)
    assert big.status_code == 413 and big.json["error"]["code"] == "too_large"
    assert put_avatar(client, tokens["robot"], b"x" * 200_000).status_code == 413  # the body


def test_the_profile_is_changed_and_read_by_rest(app_storage, client, tokens):
    response = client.patch("/api/me/profile", headers=bearer(tokens["robot"]),
                            json={"display_name": "Robo", "status": {"text": "beep",
                                                                     "expires_in": 60}})
    assert response.status_code == 200
    assert response.json["profile"]["display_name"] == "Robo"
    assert response.headers["Cache-Control"] == "no-store"
    bad = client.patch("/api/me/profile", headers=bearer(tokens["robot"]),
                       json={"display_name": "x" * 65})
    assert bad.status_code == 400 and bad.json["error"]["code"] == "invalid_display_name"
    assert client.patch("/api/me/profile", headers=bearer(tokens["robot"]),
                        data="[]").json["error"]["code"] == "invalid_payload"
    shown = client.get("/api/users/ROBOT", headers=bearer(tokens["other"])).json["profile"]
    assert shown["display_name"] == "Robo" and shown["status"]["text"] == "beep"
    assert client.get("/api/users/nobody", headers=bearer(tokens["other"])).status_code == 404
    assert client.get("/api/users/robot").status_code == 401  # cards need a caller
    assert client.patch("/api/me/profile", json={"display_name": "x"}).status_code == 401
    assert client.put("/api/me/avatar").status_code == 401


def test_the_settings_page_changes_it_with_its_session_and_csrf_token(app_storage, client):
    with app_storage.app_context():
        accounts.create_user("pageuser", "long enough password")
    app_storage.config["WTF_CSRF_ENABLED"] = True
    login = client.get("/auth/login")
    token = login.get_data(as_text=True).split('name="csrf_token" type="hidden" value="')[1]
    token = token.split('"')[0]
    client.post("/auth/login", data={"name": "pageuser", "password": "long enough password",
                                     "csrf_token": token})
    refused = client.patch("/api/me/profile", json={"display_name": "Page"})
    assert refused.status_code == 400 and refused.json["error"]["code"] == "csrf_failed"
    ok = client.patch("/api/me/profile", json={"display_name": "Page"},
                      headers={"X-CSRFToken": token})
    assert ok.status_code == 200 and ok.json["profile"]["display_name"] == "Page"
    refused = client.delete("/api/me/avatar")
    assert refused.status_code == 400 and refused.json["error"]["code"] == "csrf_failed"

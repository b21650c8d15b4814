"""Files kept in the database (FILE_STORAGE=database), on SQLite and PostgreSQL: several chunks
written and read back one at a time, ranges across a chunk's end, deletion of every chunk."""
from __future__ import annotations

import io
import os

from flask_migrate import upgrade
from sqlalchemy import func, select

from webapp import accounts
from webapp.extensions import db
from webapp.models import FileChunk
from webapp.storage import CHUNK


def test_a_file_of_several_chunks_round_trips(db_app):
    upgrade()
    db_app.config.update(FILE_STORAGE="database", MAX_UPLOAD_SIZE=8 * CHUNK)
    token = accounts.create_token(accounts.create_user("robot", "long enough password"), "t")[1]
    db.session.remove()
    client = db_app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    body = os.urandom(2 * CHUNK + 1000)
    body = b"%PDF-1.4\n" + body  # a type the server accepts, by its first bytes
    response = client.post("/api/rooms/general/files", headers=auth,
                           data={"file": (io.BytesIO(body), "big.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 201, response.json
    shown = response.json["file"]
    assert shown["size"] == len(body)
    assert db.session.scalar(select(func.count()).select_from(FileChunk)) == 3
    whole = client.get(shown["url"], headers=auth)
    assert whole.status_code == 200 and whole.data == body
    start = CHUNK - 10
    part = client.get(shown["url"], headers={**auth, "Range": f"bytes={start}-{start + 19}"})
    assert part.status_code == 206 and part.data == body[start:start + 20]
    message = client.post("/api/rooms/general/messages", headers=auth,
                          json={"text": "the report", "files": [shown["id"]]}).json["message"]
    assert client.delete(f"/api/rooms/general/messages/{message['id']}",
                         headers=auth).status_code == 204
    assert db.session.scalar(select(func.count()).select_from(FileChunk)) == 0

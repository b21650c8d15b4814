"""The console's export: an admin downloads the instance as a zip (no password hashes), a
member is refused, a POST without CSRF is refused, and every export is audited."""
from __future__ import annotations

import io
import json
import zipfile

from tests.admin.conftest import audited
from tests.data.populate import populate


def test_admin_downloads_the_export_as_a_zip(app, console):
    with app.app_context():
        populate()
    response = console.post("/admin/data/export")
    assert response.status_code == 200, response.text[:500]
    assert response.mimetype == "application/zip"
    assert "parley-export.zip" in response.headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        document = json.loads(archive.read("parley-export.json"))
    tables = document["tables"]
    assert document["with_passwords"] is False
    assert "general" in {room["name"] for room in tables["rooms"]}
    assert any(m["text"] == "hello world, edited" for m in tables["messages"])
    assert all("password_hash" not in user for user in tables["users"])
    [row] = audited(app, "export")
    assert row.actor_name == "root" and row.details["by"] == "console"


def test_the_data_page_offers_the_button(console):
    page = console.get("/admin/data")
    assert page.status_code == 200 and "Download export" in page.text


def test_a_member_is_refused(app, member):
    assert member.post("/admin/data/export").status_code == 403
    assert audited(app, "export") == []


def test_no_csrf_is_refused(app, console):
    assert console.post("/admin/data/export", csrf=False).status_code == 400
    assert audited(app, "export") == []

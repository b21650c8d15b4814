"""The admin console in Chromium: an admin deactivates someone whose open chat page is then
disconnected; others are refused; invitation links made in the console register people when
registration is by invitation."""
from __future__ import annotations

import json
import re
import zipfile

import pytest

from tests.browser.conftest import ACCOUNT_PASSWORD
from tests.browser.pages import expect
from tests.support import LiveServer, unique

pytestmark = pytest.mark.e2e


def test_an_admin_deactivates_a_user_whose_open_page_is_disconnected(open_account, accounts, live_server):
    [admin_name] = accounts.make("boss", admin=True)
    [bob_name] = accounts.make("bob")
    bob = open_account(bob_name)
    admin = open_account(admin_name)
    admin.page.goto(f"{live_server.url}/admin/users?q={bob_name}")
    row = admin.page.locator(f"tr[data-user='{bob_name}']")
    expect(row.locator(".state")).to_have_text("active")
    row.get_by_role("button", name="Deactivate").click()
    expect(admin.page.locator(".flash")).to_contain_text(f"{bob_name}: deactivate done.")
    expect(row.locator(".state")).to_have_text("deactivated")
    # Bob's page loses its connection and, its login ended, goes back to the form.
    expect(bob.page.locator("#login")).to_be_visible(timeout=15_000)
    expect(bob.page.locator("#login-error")).to_contain_text("Your session has ended")
    admin.screenshot("admin-users", full_page=True)

    # The audit log shows it, filtered by action.
    admin.page.goto(f"{live_server.url}/admin/audit")
    admin.page.get_by_label("Action").select_option("ban")
    admin.page.get_by_role("button", name="Filter").click()
    entry = admin.page.locator("tr[data-action='ban']").first
    expect(entry).to_contain_text(admin_name)
    expect(admin.page.locator("tbody tr[data-action]:not([data-action='ban'])")).to_have_count(0)


def test_the_console_refuses_those_who_are_not_admins(open_account, accounts, live_server):
    [name] = accounts.make("plain")
    page = open_account(name)
    response = page.page.goto(f"{live_server.url}/admin/users")
    assert response.status == 403
    expect(page.page.locator("[data-code=forbidden]")).to_contain_text("for admins")
    expect(page.page.locator("body")).not_to_contain_text("Deactivate")


def test_the_console_export_button_downloads_a_zip(open_account, accounts, live_server):
    [admin_name] = accounts.make("boss", admin=True)
    admin = open_account(admin_name)
    admin.page.goto(f"{live_server.url}/admin/data")
    with admin.page.expect_download(timeout=30_000) as waiting:
        admin.page.get_by_role("button", name="Download export").click()
    download = waiting.value
    assert download.suggested_filename == "parley-export.zip"
    with zipfile.ZipFile(download.path()) as archive:
        users = json.loads(archive.read("parley-export.json"))["tables"]["users"]
    assert admin_name in {user["name"] for user in users}


@pytest.fixture
def invite_server(tmp_path):
    server = LiveServer(tmp_path, REGISTRATION="invite", INVITES_BY_MEMBERS="true")
    server.start()
    yield server
    server.stop()


def test_an_invitation_link_from_the_console_registers_someone(invite_server, open_account, open_chat,
                                                              accounts):
    accounts.server = invite_server  # the fixture's accounts, made on this test's own server
    [admin_name] = accounts.make("boss", admin=True)
    admin = open_account(admin_name, server=invite_server)
    admin.page.goto(f"{invite_server.url}/admin/invitations")
    admin.page.get_by_label("Uses").fill("1")
    admin.page.get_by_role("button", name="Create invitation").click()
    link = admin.page.locator("#new-invitation-value code").inner_text()
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/auth/register\?invite=pi_\S+", link)

    newcomer = open_chat(login=False, server=invite_server)
    newcomer.page.goto(f"{invite_server.url}/auth/register")
    expect(newcomer.page.locator("[data-code='invitation_required']")).to_be_visible()
    newcomer.page.goto(link)
    name = unique("newbie")
    newcomer.page.get_by_label("Name").fill(name)
    newcomer.page.get_by_label("Password", exact=True).fill(ACCOUNT_PASSWORD)
    newcomer.page.get_by_label("Repeat password").fill(ACCOUNT_PASSWORD)
    newcomer.page.get_by_role("button", name="Create account").click()
    newcomer.expect_state("connected")
    expect(newcomer.page.locator("#me-name")).to_have_text(name)

    # Used up: the next person is told so; the console shows it.
    other = open_chat(login=False, server=invite_server)
    other.page.goto(link)
    expect(other.page.locator("[data-code='invitation_used_up']")).to_be_visible()
    admin.page.goto(f"{invite_server.url}/admin/invitations")
    expect(admin.page.locator("tr[data-invitation] .state")).to_have_text("used_up")

    # With INVITES_BY_MEMBERS the newcomer invites someone from their settings page, and takes
    # the link back.
    newcomer.page.goto(f"{invite_server.url}/auth/settings")
    section = newcomer.page.get_by_test_id("invitations")
    section.get_by_role("button", name="Create invitation").click()
    theirs = newcomer.page.locator("#new-invitation-value code").inner_text()
    assert "invite=pi_" in theirs and theirs != link
    expect(section.locator("tr[data-invitation] .state")).to_have_text("active")
    newcomer.screenshot("settings-invitations", full_page=True)
    newcomer.page.get_by_test_id("invitations").get_by_role("button", name="Revoke").click()
    expect(newcomer.page.get_by_test_id("invitations").locator(".state")).to_have_text("revoked")
    other.page.goto(theirs)
    expect(other.page.locator("[data-code='invitation_revoked']")).to_be_visible()



def test_an_open_page_turns_read_only_when_its_room_is_archived(open_account, accounts, live_server):
    [admin_name] = accounts.make("boss", admin=True)
    [bob_name] = accounts.make("bob")
    room = unique("old")
    bob = open_account(bob_name)
    bob.join(room)
    bob.send("before the archive")
    admin = open_account(admin_name)
    admin.page.goto(f"{live_server.url}/admin/rooms?q={room}")
    admin.page.locator(f"tr[data-room='{room}'] a").click()
    admin.page.get_by_role("button", name="Archive").click()
    expect(admin.page.get_by_test_id("state")).to_contain_text("archived")
    # Bob's open page learns it at once: the composer is read-only, and says why.
    expect(bob.composer).to_be_disabled()
    expect(bob.composer).to_have_attribute("placeholder", re.compile("archived"))
    admin.page.get_by_role("button", name="Unarchive").click()
    expect(bob.composer).to_be_enabled()
    bob.send("after it opened again")
    expect(bob.message("after it opened again")).to_be_visible()

"""Profiles in the page (issue 18): a display name and a status set in the settings page show live
on another person's page -- beside messages, in the member list and on the card; an uploaded
avatar shows as the image; a status that expires disappears by itself."""
from __future__ import annotations

import io

import pytest
import requests
from PIL import Image

from tests.browser.pages import expect
from tests.support import unique

pytestmark = pytest.mark.e2e


def settings_page(chat):
    """The settings page, in another tab of the same person's browser."""
    page = chat.page.context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(chat.url.rstrip("/") + "/auth/settings")
    expect(page.locator("#profile-heading")).to_be_visible()
    page.errors = errors
    return page


def member(chat, name):
    return chat.members.locator(f".member-btn[data-name='{name}']")


def test_display_name_and_status_from_settings_show_live_to_others(open_account, accounts):
    room = unique("people")
    alice_name, bob_name = accounts.make("alice", "bob")
    alice, bob = open_account(alice_name), open_account(bob_name)
    for person in (alice, bob):
        person.join(room)
    alice.send("before my new name")
    expect(bob.message("before my new name")).to_be_visible()
    expect(member(bob, alice_name)).to_contain_text(alice_name)

    settings = settings_page(alice)
    settings.locator("#display-name").fill("Alice Liddell")
    settings.locator("#status-emoji").fill("🐇")
    settings.locator("#status-text").fill("Down the rabbit hole")
    settings.locator("#status-expiry").select_option("3600")
    settings.get_by_role("button", name="Save profile").click()
    expect(settings.locator("#profile-result")).to_have_text("Profile saved.")
    expect(settings.locator("#status-until")).to_contain_text("clears on")

    # Bob's page, without reloading: the member list, the author line, and the card.
    entry = member(bob, alice_name)
    expect(entry.locator(".display-name")).to_have_text("Alice Liddell")
    expect(entry.locator(".handle")).to_have_text(f"@{alice_name}")
    # (and "away" before it: alice has no chat page in the foreground, only her settings)
    expect(entry.locator(".member-status")).to_contain_text("🐇Down the rabbit hole")
    author = bob.message_item("before my new name").locator(".msg-author")
    expect(author.locator(".display-name")).to_have_text("Alice Liddell")
    expect(author.locator(".handle")).to_have_text(f"@{alice_name}")
    entry.click()
    card = bob.page.locator(".person-card")
    expect(card.locator(".person-name")).to_contain_text("Alice Liddell")
    expect(card.locator(".person-name .handle")).to_have_text(f"@{alice_name}")
    expect(card.locator(".person-status")).to_contain_text("🐇Down the rabbit hole")
    expect(card.get_by_role("button", name="Send a direct message")).to_be_visible()
    bob.screenshot("profile-card")
    card.get_by_role("button", name="Close").click()

    # Cleared in settings: gone from bob's page too; the @name is all that is left.
    settings.get_by_role("button", name="Clear status").click()
    expect(settings.locator("#profile-result")).to_have_text("Status cleared.")
    expect(settings.locator("#status-text")).to_have_value("")
    settings.locator("#display-name").fill("")
    settings.get_by_role("button", name="Save profile").click()
    expect(settings.locator("#profile-result")).to_have_text("Profile saved.")
    expect(entry.locator(".member-status")).not_to_contain_text("rabbit hole")  # "away" may stay
    expect(entry.locator(".member-name")).to_have_text(alice_name)
    assert settings.errors == []

    # "away" shows where the card says so (whoever tracks activity sets it: present when known).
    bob.page.evaluate("([name]) => import('/static/js/profiles.js').then((m) => m.setAway(name, true))",
                      [alice_name])
    expect(entry.locator(".member-status")).to_have_text("away")
    entry.click()
    expect(card.locator(".person-status")).to_have_text("away")


def png(size=(320, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (220, 40, 90)).save(out, format="PNG")
    return out.getvalue()


def test_an_uploaded_avatar_shows_as_the_image_and_removing_it_brings_back_the_badge(
        open_account, accounts):
    room = unique("faces")
    alice_name, bob_name = accounts.make("alice", "bob")
    alice, bob = open_account(alice_name), open_account(bob_name)
    for person in (alice, bob):
        person.join(room)
    settings = settings_page(alice)
    settings.locator("#avatar-file").set_input_files(
        {"name": "me.png", "mimeType": "image/png", "buffer": png()})
    expect(settings.locator("#profile-result")).to_have_text("Picture saved.")
    mine = settings.locator("#profile-avatar img")
    expect(mine).to_be_visible()
    assert settings.evaluate("() => document.querySelector('#profile-avatar img').naturalWidth") == 256

    shown = member(bob, alice_name).locator(".avatar img")
    expect(shown).to_be_visible()
    bob.page.wait_for_function(
        f"() => document.querySelector(\"#member-list .member-btn[data-name='{alice_name}'] .avatar img\")"
        "?.naturalWidth === 64")
    alice.send("with a face")
    expect(bob.message_item("with a face").locator(".avatar img")).to_be_visible()
    bob.screenshot("avatars")

    settings.get_by_role("button", name="Remove picture").click()
    expect(settings.locator("#profile-result")).to_have_text("Picture removed.")
    expect(shown).to_have_count(0)
    expect(member(bob, alice_name).locator(".avatar")).to_have_text(alice_name[0].upper())
    assert settings.errors == []


def test_a_status_that_expires_disappears_by_itself(open_account, accounts, live_server):
    room = unique("brb")
    alice_name, bob_name = accounts.make("alice", "bob", tokens=True)
    alice, bob = open_account(alice_name), open_account(bob_name)
    for person in (alice, bob):
        person.join(room)
    response = requests.patch(
        f"{live_server.url}/api/me/profile", timeout=10,
        headers={"Authorization": f"Bearer {accounts.tokens[alice_name]}"},
        json={"status": {"text": "back in a moment", "emoji": "☕", "expires_in": 4}})
    assert response.status_code == 200, response.text
    status = member(bob, alice_name).locator(".member-status")
    expect(status).to_contain_text("☕back in a moment")
    # at expires_at, with no event from the server (an "away" of the same card may stay)
    expect(status).not_to_contain_text("back in a moment", timeout=15_000)
    bob.page.reload()  # and the server no longer serves it
    bob.expect_state("connected")
    bob.open_room(room)
    expect(member(bob, alice_name)).to_be_visible()
    expect(member(bob, alice_name).locator(".member-status")).to_be_hidden()

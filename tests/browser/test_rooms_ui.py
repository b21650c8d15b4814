"""Rooms and people in the page: create a room (private or not) and own it, invite to it, start a
direct conversation from someone's card or the "+" of the sidebar, remove people from a room and
ban them -- each control shown only to those the server would allow."""
from __future__ import annotations

import re

import pytest

from tests.browser.pages import expect
from tests.support import unique

pytestmark = pytest.mark.e2e


def card(page, name: str):
    return page.page.get_by_role("dialog", name=name)


def open_card_from_members(page, name: str):
    page.members.get_by_role("button", name=re.compile(f"^{re.escape(name)}")).click()
    expect(card(page, name)).to_be_visible()
    return card(page, name)


def create_room(page, room: str, private: bool) -> None:
    page.page.get_by_role("button", name="Create a room").click()
    dialog = page.page.get_by_role("dialog", name="Create a room")
    dialog.get_by_label("Name").fill(room)
    if private:
        dialog.get_by_label("Private: only people you invite can join").check()
    dialog.get_by_role("button", name="Create").click()
    expect(dialog).to_have_count(0)
    expect(page.title).to_have_text(f"#{room}")


def test_a_private_room_its_owner_invites_and_removes(open_account, accounts):
    alice_name, bob_name = accounts.make("alice", "bob")
    alice = open_account(alice_name)
    bob = open_account(bob_name)
    room = unique("secret")

    create_room(alice, room, private=True)
    expect(alice.room_button(room).locator(".room-hash")).to_have_text("🔒")
    expect(alice.page.locator("#room-intro")).to_contain_text("Only people its owner invites can join it.")
    # Nobody else can walk in.
    bob.page.locator("#join-room").fill(room)
    bob.page.locator("#join-room").press("Enter")
    expect(bob.page.locator("#join-error")).to_contain_text("private")

    # The owner invites; the invitee is told and finds it in the list.
    alice.page.get_by_role("button", name="Invite").click()
    dialog = alice.page.get_by_role("dialog", name=f"Invite someone to #{room}")
    dialog.get_by_label("Their name").fill("nobody-by-this-name")
    dialog.get_by_role("button", name="Invite").click()
    expect(dialog.locator(".form-error")).to_contain_text("No registered user")
    dialog.get_by_label("Their name").fill(bob_name)
    dialog.get_by_role("button", name="Invite").click()
    expect(dialog).to_have_count(0)
    expect(alice.toasts.filter(has_text=f"{bob_name} is invited to #{room}.")).to_be_visible()
    expect(bob.toasts.filter(has_text=f"{alice_name} invited you to #{room}.")).to_be_visible()
    bob.room_button(room).click()
    expect(bob.title).to_have_text(f"#{room}")
    expect(alice.members).to_contain_text(bob_name)
    # Bob is a member, not the owner: no Invite.
    expect(bob.page.get_by_role("button", name="Invite")).to_be_hidden()

    # In a private room anyone in it pins; the owner may delete anyone's message.
    bob.send("a secret plan")
    expect(alice.message("a secret plan")).to_be_visible()
    expect(bob.action("a secret plan", "Pin")).to_be_visible()
    expect(alice.action("a secret plan", "Delete")).to_be_visible()
    alice.action("a secret plan", "Delete").click()
    alice.page.get_by_role("dialog", name="Delete this message?").get_by_role("button", name="Delete").click()
    expect(bob.message("a secret plan")).to_have_count(0)

    # Bob's card, for bob, has nothing to remove alice with.
    bob_card = open_card_from_members(bob, alice_name)
    expect(bob_card.get_by_role("button", name=re.compile("^Remove"))).to_have_count(0)
    bob.page.keyboard.press("Escape")

    # The owner removes bob from the member list's card, after saying yes.
    alice_card = open_card_from_members(alice, bob_name)
    expect(alice_card).to_contain_text(f"In #{room} now.")
    alice.screenshot("person-card")
    alice_card.get_by_role("button", name=f"Remove from #{room}").click()
    alice.page.get_by_role("dialog", name=f"Remove {bob_name} from #{room}?").get_by_role("button", name="Remove").click()
    expect(bob.toasts.filter(has_text=f"{alice_name} removed you from #{room}.")).to_be_visible()
    expect(bob.page.locator(f"#room-list button.joined[data-room='{room}']")).to_have_count(0)
    expect(alice.members).not_to_contain_text(bob_name)


def test_direct_messages_from_a_card_and_from_the_sidebar(open_chat, open_account, accounts):
    alice_name, bob_name, carol_name = accounts.make("alice", "bob", "carol")
    room = unique("lobby")
    alice = open_account(alice_name)
    alice.join(room)
    bob = open_account(bob_name)
    bob.join(room)
    guest = open_chat(unique("guest"))
    guest.join(room)
    bob.send("hello from bob")
    guest.send("hello from a guest")
    expect(alice.message("hello from a guest")).to_be_visible()

    # A guest's card offers no direct message (guests cannot have one); nor does a guest's page.
    alice.message_item("hello from a guest").locator(".msg-author").click()
    expect(card(alice, guest.name)).to_contain_text("A guest, without an account.")
    expect(card(alice, guest.name).get_by_role("button", name="Send a direct message")).to_have_count(0)
    alice.page.keyboard.press("Escape")
    expect(guest.page.get_by_role("button", name="New direct message")).to_be_hidden()
    guest.message_item("hello from bob").locator(".msg-author").click()
    expect(card(guest, bob_name).get_by_role("button", name="Send a direct message")).to_have_count(0)
    guest.page.keyboard.press("Escape")

    # From bob's name on his message: his card, "Send a direct message".
    alice.message_item("hello from bob").locator(".msg-author").click()
    card(alice, bob_name).get_by_role("button", name="Send a direct message").click()
    expect(alice.title).to_have_text(bob_name)
    alice.send("just between us")
    expect(bob.toasts.filter(has_text=f"{alice_name} opened a direct conversation with you.")).to_be_visible()
    dm = bob.page.locator("#dm-list button").filter(has_text=alice_name)
    expect(dm.locator(".badge")).to_have_text("@1")
    dm.click()
    expect(bob.message("just between us")).to_be_visible()

    # The sidebar's "+": by name; a wrong name says so and the dialog stays.
    alice.page.get_by_role("button", name="New direct message").click()
    dialog = alice.page.get_by_role("dialog", name="New direct message")
    dialog.get_by_label("Their name").fill(alice_name)
    dialog.get_by_role("button", name="Start").click()
    expect(dialog.locator(".form-error")).to_contain_text("someone else")
    dialog.get_by_label("Their name").fill(carol_name)
    dialog.get_by_role("button", name="Start").click()
    expect(dialog).to_have_count(0)
    expect(alice.title).to_have_text(carol_name)
    expect(alice.page.locator("#dm-list .room-name")).to_have_text(sorted([bob_name, carol_name]))
    alice.screenshot("direct-messages")


def test_owners_and_admins_remove_and_ban(open_chat, open_account, accounts):
    """(A guest's ban also bans its address, 127.0.0.1 here, for an hour: the test bans an
    account, which the test server bans by itself only -- BAN_ADDRESS_MINUTES=0.)"""
    owner_name, troll_name = accounts.make("owner", "troll")
    [admin_name] = accounts.make("admin", admin=True)
    room = unique("town")
    owner = open_account(owner_name)
    create_room(owner, room, private=False)  # public, but hers: she pins and removes people
    rowdy = open_chat(unique("rowdy"))
    rowdy.join(room)
    rowdy.send("spam spam spam")
    expect(owner.message("spam spam spam")).to_be_visible()
    expect(owner.action("spam spam spam", "Pin")).to_be_visible()
    expect(rowdy.action("spam spam spam", "Pin")).to_have_count(0)

    # The owner removes the guest (from the author name on the message).
    owner.message_item("spam spam spam").locator(".msg-author").click()
    person = card(owner, rowdy.name)
    expect(person.get_by_role("button", name="Ban from Parley")).to_have_count(0)  # owners do not ban
    person.get_by_role("button", name=f"Remove from #{room}").click()
    owner.page.get_by_role("dialog", name=f"Remove {rowdy.name} from #{room}?").get_by_role("button", name="Remove").click()
    expect(rowdy.toasts.filter(has_text=f"{owner_name} removed you from #{room}.")).to_be_visible()
    # Removed from a public room: kept out for a while.
    rowdy.page.locator("#join-room").fill(room)
    rowdy.page.locator("#join-room").press("Enter")
    expect(rowdy.page.locator("#join-error")).to_contain_text("put out of")

    # An admin bans an account from the server: its page goes back to the form, saying so.
    troll = open_account(troll_name)
    admin = open_account(admin_name)
    admin.open_room("general")
    expect(admin.members).to_contain_text(troll_name)
    person = open_card_from_members(admin, troll_name)
    person.get_by_role("button", name="Ban from Parley").click()
    admin.page.get_by_role("dialog", name=f"Ban {troll_name} from Parley?").get_by_role("button", name="Ban").click()
    expect(admin.toasts.filter(has_text=f"{troll_name} is banned.")).to_be_visible()
    expect(troll.page.locator("#login")).to_be_visible(timeout=15_000)
    expect(troll.page.locator("#login-error")).to_contain_text("Your session has ended")
    expect(admin.members).not_to_contain_text(troll_name)

"""Acting on messages in the page: edit in place (and its versions), delete after a question,
react with a picker and chips, reply in a thread, pin -- each seen live by the other person's
page, each reachable by keyboard, each control shown only to whom the server would allow."""
from __future__ import annotations

import re

import pytest

from tests.browser.pages import expect
from tests.support import unique

pytestmark = pytest.mark.e2e


def focused(page) -> str:
    """What has focus: its aria-label, else its text."""
    return page.evaluate("() => document.activeElement.getAttribute('aria-label') || document.activeElement.textContent")


def test_edit_in_place_by_mouse_and_keyboard_and_see_the_versions(open_chat, open_account, accounts):
    room = unique("edits")
    [alice_name] = accounts.make("alice")
    alice = open_account(alice_name)
    alice.join(room)
    bob = open_chat(unique("bob"))
    bob.join(room)

    alice.send("helo wrld")
    alice.send("second thought")
    expect(bob.message("second thought")).to_be_visible()

    # The toolbar's Edit: the text becomes an editor; Enter saves.
    alice.action("helo wrld", "Edit").click()
    editor = alice.page.locator("#messages .edit-text")
    expect(editor).to_be_focused()
    expect(editor).to_have_value("helo wrld")
    editor.fill("hello world")
    alice.screenshot("edit-in-place")
    editor.press("Enter")
    for person in (alice, bob):
        expect(person.message("hello world")).to_be_visible()
        expect(person.message_item("hello world").locator(".edited-mark")).to_have_text("(edited)")
    expect(alice.page.locator("#messages .edit-text")).to_have_count(0)

    # Up on an empty composer edits my last message; Escape leaves it as it was.
    alice.composer.press("ArrowUp")
    expect(editor).to_be_focused()
    expect(editor).to_have_value("second thought")
    editor.press_sequentially(", changed")
    editor.press("Escape")
    expect(alice.message("second thought")).to_be_visible()
    expect(alice.composer).to_be_focused()
    alice.composer.press("ArrowUp")
    editor.fill("second thought, for real")
    editor.press("Enter")
    expect(bob.message("second thought, for real")).to_be_visible()
    expect(alice.composer).to_be_focused()

    # Anyone in the room may read the versions, oldest first.
    bob.message_item("hello world").locator(".edited-mark").click()
    dialog = bob.page.get_by_role("dialog", name="Versions of the message")
    expect(dialog.locator(".version .msg-text")).to_have_text(["helo wrld", "hello world"])
    expect(dialog.locator(".version-label")).to_have_text(["Original", "Now"])
    bob.screenshot("edit-versions")
    bob.page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)

    # Only its author, as an account, may edit: bob (a guest) sees no Edit anywhere.
    expect(bob.action("hello world", "Edit")).to_have_count(0)
    bob.send("a guest's words")
    expect(bob.action("a guest's words", "Edit")).to_have_count(0)
    bob.composer.press("ArrowUp")
    expect(bob.page.locator("#messages .edit-text")).to_have_count(0)


def test_messages_are_reachable_by_keyboard(open_account, accounts):
    room = unique("keys")
    [name] = accounts.make("keys")
    page = open_account(name)
    page.join(room)
    for text in ("first", "second", "third"):
        page.send(text)
        expect(page.message(text)).to_be_visible()
    messages = page.page.locator("#messages .msg")
    # One message is in the tab order (the last); Tab from the conversation reaches it.
    expect(page.page.locator("#messages .msg[tabindex='0']")).to_have_count(1)
    page.page.locator("#scroller").focus()
    page.page.keyboard.press("Tab")
    expect(messages.nth(2)).to_be_focused()
    # The arrows walk the messages; its toolbar shows and Tab goes into it.
    page.page.keyboard.press("ArrowUp")
    expect(messages.nth(1)).to_be_focused()
    toolbar = messages.nth(1).locator(".msg-actions")
    expect(toolbar).to_be_visible()
    page.page.keyboard.press("Tab")
    assert focused(page.page) == "Add a reaction"
    page.page.keyboard.press("Tab")
    page.page.keyboard.press("Tab")
    assert focused(page.page) == "Edit"
    page.page.keyboard.press("Enter")
    expect(page.page.locator("#messages .edit-text")).to_be_focused()
    page.page.keyboard.press("Escape")
    expect(messages.nth(1)).to_be_focused()
    page.page.keyboard.press("Home")
    expect(messages.nth(0)).to_be_focused()
    # Escape on a message goes back to the composer.
    page.page.keyboard.press("Escape")
    expect(page.composer).to_be_focused()


def test_delete_asks_first_and_only_authors_and_admins_see_it(open_chat, open_account, accounts):
    room = unique("deletes")
    [alice_name] = accounts.make("alice")
    [admin_name] = accounts.make("admin", admin=True)
    alice = open_account(alice_name)
    alice.join(room)
    bob = open_chat(unique("bob"))
    bob.join(room)
    admin = open_account(admin_name)
    admin.join(room)

    alice.send("regrettable")
    alice.send("fine")
    bob.send("a guest says something rude")
    expect(bob.message("a guest says something rude")).to_be_visible()

    # Neither bob (a guest: not even his own) nor alice (not hers) may delete bob's or others'.
    expect(bob.action("regrettable", "Delete")).to_have_count(0)
    expect(bob.action("a guest says something rude", "Delete")).to_have_count(0)
    expect(alice.action("a guest says something rude", "Delete")).to_have_count(0)

    # Alice deletes her own after saying yes; Cancel (which has focus) keeps it.
    alice.action("regrettable", "Delete").click()
    dialog = alice.page.get_by_role("dialog", name="Delete this message?")
    expect(dialog).to_contain_text("regrettable")
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    alice.screenshot("delete-confirm")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)
    expect(bob.message("regrettable")).to_be_visible()
    alice.action("regrettable", "Delete").click()
    alice.page.get_by_role("dialog", name="Delete this message?").get_by_role("button", name="Delete").click()
    for person in (alice, bob, admin):
        expect(person.page.locator("#messages .msg-text")).to_have_text(["fine", "a guest says something rude"])

    # An admin may delete anyone's.
    admin.action("a guest says something rude", "Delete").click()
    admin.page.get_by_role("dialog", name="Delete this message?").get_by_role("button", name="Delete").click()
    expect(bob.page.locator("#messages .msg-text")).to_have_text(["fine"])
    expect(alice.page.locator("#messages .msg-text")).to_have_text(["fine"])


def test_reactions_with_the_picker_and_the_chips(open_chat, open_account, accounts):
    room = unique("reacts")
    [alice_name] = accounts.make("alice")
    alice = open_account(alice_name)
    alice.join(room)
    bob = open_chat(unique("bob"))
    bob.join(room)
    alice.send("lunch at noon?")
    expect(bob.message("lunch at noon?")).to_be_visible()

    # The picker: search by name, Enter takes the first one found.
    bob.action("lunch at noon?", "Add a reaction").click()
    picker = bob.page.get_by_role("dialog", name="Add a reaction")
    search = picker.get_by_role("searchbox", name="Search emoji")
    expect(search).to_be_focused()
    search.fill("thumbs up")
    expect(picker.locator(".emoji-grid .emoji:visible")).to_have_count(1)
    bob.screenshot("emoji-picker")
    search.press("Enter")
    expect(picker).to_be_hidden()
    for person in (alice, bob):
        chips = person.reactions("lunch at noon?")
        expect(chips.locator(".reaction-emoji")).to_have_text(["👍"])
        expect(chips.locator(".reaction-count")).to_have_text(["1"])
    expect(bob.reactions("lunch at noon?").first).to_have_attribute("aria-pressed", "true")
    expect(alice.reactions("lunch at noon?").first).to_have_attribute("aria-pressed", "false")

    # A chip adds mine to it; its tooltip says who.
    alice.reactions("lunch at noon?").first.click()
    chip = bob.reactions("lunch at noon?").first
    expect(chip.locator(".reaction-count")).to_have_text("2")
    expect(chip).to_have_attribute("title", f"{bob.name} and {alice_name} reacted with 👍")
    expect(alice.reactions("lunch at noon?").first).to_have_attribute("aria-pressed", "true")

    # The keyboard in the picker: arrows from the search into the grid, Enter picks.
    item = alice.message_item("lunch at noon?")
    item.hover()
    item.locator(".add-reaction").click()
    picker = alice.page.get_by_role("dialog", name="Add a reaction")
    picker.get_by_role("searchbox").fill("popper")
    alice.page.keyboard.press("ArrowDown")
    expect(picker.get_by_role("button", name="party popper")).to_be_focused()
    alice.page.keyboard.press("Enter")
    expect(bob.reactions("lunch at noon?").locator(".reaction-emoji")).to_have_text(["👍", "🎉"])
    # Escape closes the picker without picking, and focus goes back.
    alice.action("lunch at noon?", "Add a reaction").click()
    expect(picker).to_be_visible()
    alice.page.keyboard.press("Escape")
    expect(picker).to_be_hidden()
    assert focused(alice.page) == "Add a reaction"
    alice.screenshot("reactions")

    # Pressing my chip again takes mine back; the last one gone takes the chip away.
    bob.reactions("lunch at noon?").first.click()
    expect(alice.reactions("lunch at noon?").first.locator(".reaction-count")).to_have_text("1")
    alice.reactions("lunch at noon?").first.click()
    expect(bob.reactions("lunch at noon?").locator(".reaction-emoji")).to_have_text(["🎉"])


def test_threads_reply_live_in_a_side_panel(open_chat, open_account, accounts):
    room = unique("threads")
    [alice_name] = accounts.make("alice")
    alice = open_account(alice_name)
    alice.join(room)
    bob = open_chat(unique("bob"))
    bob.join(room)
    alice.send("who reviews the release notes?")
    alice.send("and something else")
    expect(bob.message("who reviews the release notes?")).to_be_visible()

    bob.action("who reviews the release notes?", "Reply in thread").click()
    thread = bob.thread
    expect(thread).to_be_visible()
    expect(thread.locator("#thread-root .msg-text")).to_have_text("who reviews the release notes?")
    expect(thread.locator("#thread-status")).to_have_text("No replies yet.")
    expect(bob.page.locator("#thread-text")).to_be_focused()
    bob.page.locator("#thread-text").fill("I can, after lunch")
    bob.page.locator("#thread-text").press("Enter")
    expect(thread.locator("#thread-list .msg-text")).to_have_text(["I can, after lunch"])
    expect(thread.locator("#thread-status")).to_have_text("1 reply")

    # Alice's timeline: the reply is not in it, the root counts it and opens the thread.
    link = alice.message_item("who reviews the release notes?").locator(".replies-link")
    expect(link).to_have_text("1 reply")
    expect(alice.message("I can, after lunch")).to_have_count(0)
    link.click()
    expect(alice.thread.locator("#thread-list .msg-text")).to_have_text(["I can, after lunch"])
    alice.page.locator("#thread-text").fill("thanks! @" + bob.name)
    alice.page.locator("#thread-text").press("Enter")
    expect(thread.locator("#thread-list .msg-text")).to_have_text(["I can, after lunch", f"thanks! @{bob.name}"])
    expect(bob.message_item("who reviews the release notes?").locator(".replies-link")).to_have_text("2 replies")
    # Replies take reactions and edits like any message.
    alice.page.locator("#thread-text").press("ArrowUp")
    editor = alice.thread.locator(".edit-text")
    expect(editor).to_be_focused()
    editor.fill("thanks a lot! @" + bob.name)
    editor.press("Enter")
    expect(thread.locator("#thread-list .msg-text")).to_have_text(["I can, after lunch", f"thanks a lot! @{bob.name}"])
    alice.screenshot("thread")
    # Escape in the panel closes it.
    alice.page.locator("#thread-text").press("Escape")
    expect(alice.thread).to_be_hidden()
    expect(alice.composer).to_be_focused()


def test_pins_for_admins_in_public_rooms_and_the_pin_list(open_chat, open_account, accounts):
    room = unique("pins")
    [admin_name] = accounts.make("admin", admin=True)
    admin = open_account(admin_name)
    admin.join(room)
    bob = open_chat(unique("bob"))
    bob.join(room)
    admin.send("the wiki is at https://example.org/wiki")
    admin.send("just chatting")
    expect(bob.message("just chatting")).to_be_visible()
    # In a public room only its owner and admins pin.
    expect(bob.action("just chatting", "Pin")).to_have_count(0)

    admin.action("the wiki is at https://example.org/wiki", "Pin").click()
    for person in (admin, bob):
        expect(person.message_item("the wiki is at https://example.org/wiki").locator(".pin-mark")).to_have_text("📌 Pinned")
    expect(admin.action("the wiki is at https://example.org/wiki", "Unpin")).to_have_attribute("aria-pressed", "true")

    bob.page.locator("#open-pins").click()
    pins = bob.page.locator("#pin-list .pin")
    expect(pins).to_have_count(1)
    expect(pins.locator(".msg-text")).to_have_text("the wiki is at https://example.org/wiki")
    expect(pins.locator(".pin-by")).to_contain_text(f"Pinned by {admin_name}")
    expect(pins.get_by_role("button", name=re.compile("Unpin"))).to_have_count(0)
    pins.get_by_role("button", name=re.compile("^Show")).click()
    expect(bob.message_item("the wiki is at https://example.org/wiki")).to_be_focused()

    # Live: a pin elsewhere shows up in the open list; unpinning from the admin's list too.
    admin.action("just chatting", "Pin").click()
    expect(pins).to_have_count(2)
    admin.page.locator("#open-pins").click()
    admin.screenshot("pins")
    admin.page.locator("#pin-list .pin").filter(has_text="just chatting").get_by_role(
        "button", name=re.compile("^Unpin")).click()
    expect(pins).to_have_count(1)
    expect(bob.message_item("just chatting").locator(".pin-mark")).to_have_count(0)


MARKUP = "<img src=x onerror=window.__xss=1>"
MARKUP_2 = "<script>window.__xss=1</script> **and** `<b>code</b>`"


def test_markup_stays_text_in_edits_versions_threads_and_pins(open_chat, open_account, accounts):
    [owner_name] = accounts.make("owner")
    room = unique("xss")
    owner = open_account(owner_name)
    owner.page.get_by_role("button", name="Create a room").click()
    dialog = owner.page.get_by_role("dialog", name="Create a room")
    dialog.get_by_label("Name").fill(room)
    dialog.get_by_role("button", name="Create").click()
    expect(owner.title).to_have_text(f"#{room}")
    victim = open_chat(unique("victim"))
    victim.join(room)

    owner.send(MARKUP)
    owner.action(MARKUP, "Edit").click()
    owner.page.locator("#messages .edit-text").fill(MARKUP_2)
    owner.page.locator("#messages .edit-text").press("Enter")
    expect(victim.message(MARKUP_2.replace("`<b>code</b>`", "<b>code</b>"))).to_be_visible()
    owner.action(MARKUP_2.replace("`<b>code</b>`", "<b>code</b>"), "Pin").click()
    text = MARKUP_2.replace("`<b>code</b>`", "<b>code</b>")
    victim.action(text, "Reply in thread").click()
    victim.page.locator("#thread-text").fill(MARKUP)
    victim.page.locator("#thread-text").press("Enter")
    expect(victim.thread.locator("#thread-list .msg-text")).to_have_text([MARKUP])
    victim.message_item(text).locator(".edited-mark").click()
    versions = victim.page.get_by_role("dialog", name="Versions of the message")
    expect(versions.locator(".version .msg-text")).to_have_text([MARKUP, text])
    victim.page.keyboard.press("Escape")
    expect(versions).to_have_count(0)
    victim.page.locator("#open-pins").click()
    expect(victim.page.locator("#pin-list .msg-text")).to_have_text([text])
    owner.message_item(text).locator(".replies-link").click()
    expect(owner.thread.locator("#thread-list .msg-text")).to_have_text([MARKUP])
    for person in (owner, victim):
        expect(person.page.locator("img, body script, b, [onerror]")).to_have_count(0)
        assert person.page.evaluate("typeof window.__xss") == "undefined"


def test_a_phone_taps_a_message_for_its_actions_and_reads_a_thread(open_chat, open_account, accounts):
    [alice_name] = accounts.make("alice")
    room = unique("tap")
    alice = open_account(alice_name)
    alice.join(room)
    phone = open_chat(unique("phone"), phone=True)
    phone.page.locator("#toggle-sidebar").click()
    phone.join(room)
    alice.send("tap me")
    item = phone.message_item("tap me")
    expect(item).to_be_visible()
    toolbar = item.locator(".msg-actions")
    expect(toolbar).to_be_hidden()
    item.locator(".msg-text").tap()
    expect(toolbar).to_be_visible()
    toolbar.get_by_role("button", name="Add a reaction").tap()
    picker = phone.page.get_by_role("dialog", name="Add a reaction")
    picker.get_by_role("button", name="thumbs up").first.tap()
    expect(alice.reactions("tap me").locator(".reaction-count")).to_have_text(["1"])
    item.locator(".msg-text").tap()
    toolbar.get_by_role("button", name="Reply in thread").tap()
    # The thread takes the whole screen; its close button brings the room back.
    thread = phone.page.locator("#detail")
    expect(thread).to_be_in_viewport()
    assert thread.bounding_box()["width"] == 390
    phone.page.locator("#thread-text").fill("replying from a phone")
    phone.page.locator("#thread-composer button[type=submit]").tap()
    expect(alice.message_item("tap me").locator(".replies-link")).to_have_text("1 reply")
    phone.screenshot("phone-thread")
    assert phone.page.evaluate("document.documentElement.scrollWidth") <= 390
    phone.page.get_by_role("button", name="Close the panel").tap()
    expect(thread).to_be_hidden()

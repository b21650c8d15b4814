"""Slash commands from the page: the completion list a "/" opens, /topic seen in both pages'
headers, /me drawn as an action in both, and an unknown command refused with nothing sent."""
from __future__ import annotations

import re

import pytest

from tests.browser.pages import expect
from tests.browser.test_rooms_ui import create_room
from tests.support import unique

pytestmark = pytest.mark.e2e


def test_me_and_topic_from_the_page(open_chat, open_account, accounts):
    [alice_name] = accounts.make("alice")
    alice = open_account(alice_name)
    room = unique("cmds")
    create_room(alice, room, private=False)  # hers: she may set its topic
    bob = open_chat(unique("bob"))
    bob.join(room)

    # "/" lists the commands; typing narrows them; Tab takes the one selected.
    menu = alice.page.locator("#command-menu")
    alice.composer.press_sequentially("/")
    expect(menu.get_by_role("option")).to_have_count(5)
    expect(menu.get_by_role("option").first).to_contain_text("/me <action>")
    alice.composer.press_sequentially("to")
    expect(menu.get_by_role("option")).to_have_text(["/topic <text>"])
    alice.screenshot("command-menu")
    alice.composer.press("Tab")
    expect(alice.composer).to_have_value("/topic ")
    expect(menu).to_be_hidden()

    alice.composer.press_sequentially("Release on Friday")
    alice.composer.press("Enter")
    for person in (alice, bob):
        expect(person.page.locator("#room-topic")).to_have_text("Release on Friday")
    expect(alice.composer).to_have_value("")

    alice.send("/me waves")
    for person in (alice, bob):
        action = person.page.locator("#messages .msg.action .msg-text")
        expect(action).to_have_text(f"* {alice_name} waves")
    assert alice.page.locator("#messages .msg").count() == 1  # the topic was no message

    # A guest may not set a public room's topic; an unknown command sends nothing.
    bob.send("/topic mine")
    expect(bob.toasts.filter(has_text="Only the room's owner")).to_be_visible()
    bob.send("/nope at all")
    expect(bob.toasts.filter(has_text="Unknown command '/nope'")).to_be_visible()
    expect(bob.composer).to_have_value("/nope at all")  # given back, to correct it
    bob.screenshot("unknown-command")
    expect(alice.page.locator("#room-topic")).to_have_text("Release on Friday")
    assert alice.page.locator("#messages .msg").count() == 1

    # "//" posts the text as it is.
    bob.composer.fill("//shrug")
    bob.composer.press("Enter")
    expect(alice.message("/shrug")).to_be_visible()


def test_the_owner_manages_integrations_in_the_panel(open_chat, open_account, accounts, live_server):
    import requests

    [alice_name] = accounts.make("alice")
    alice = open_account(alice_name)
    room = unique("integ")
    create_room(alice, room, private=False)
    page = alice.page
    page.get_by_role("button", name="Integrations").click()
    panel = page.locator("#integrations-view")
    expect(panel).to_be_visible()

    # Outgoing: loopback is refused (no WEBHOOK_ALLOWED_NETWORKS on this server), a public
    # address is kept with its status, and its secret is shown once.
    # Once the room's lists are in: the panel redraws when they arrive.
    expect(page.locator("#integrations-body")).to_have_attribute("data-loaded", "true")
    outgoing = panel.get_by_role("region", name="Outgoing webhooks")
    outgoing.get_by_label("URL").fill("http://127.0.0.1:9/hook")
    expect(outgoing.get_by_label("URL")).to_have_value("http://127.0.0.1:9/hook")
    outgoing.get_by_role("button", name="Add").click()
    expect(outgoing.get_by_role("alert")).to_contain_text("not a public address")
    outgoing.get_by_label("URL").fill("https://93.184.215.14/hook")
    outgoing.get_by_label("Trigger word (optional)").fill("deploy")
    outgoing.get_by_role("button", name="Add").click()
    expect(outgoing.locator(".integration-item")).to_contain_text("trigger: deploy · nothing sent yet")
    expect(outgoing.get_by_label("New signing secret")).to_have_value(re.compile(r"^[0-9a-f]{48}$"))
    outgoing.get_by_role("button", name="Remove https://93.184.215.14/hook").click()
    expect(outgoing.locator(".integration-item")).to_have_count(0)

    # Incoming: the secret URL, shown once, posts a Slack payload to the room as a bot.
    incoming = panel.get_by_role("region", name="Incoming webhooks")
    incoming.get_by_label("Posts as").fill("ci")
    incoming.get_by_role("button", name="Add").click()
    url = incoming.get_by_label("New URL").input_value()
    assert "/hooks/" in url
    alice.screenshot("integrations-panel")
    path = url.split("/hooks/", 1)[1]
    answer = requests.post(f"{live_server.url}/hooks/{path}", timeout=10,
                           json={"text": "Build #7 passed", "username": "Jenkins"})
    assert answer.text == "ok"
    item = alice.message_item("Build #7 passed")
    expect(item.locator(".bot-tag")).to_have_text("bot")
    expect(item.locator(".bot-as")).to_have_text("Jenkins")

    # Commands: a custom one joins the completion list.
    commands = panel.get_by_role("region", name="Slash commands")
    commands.get_by_label("Name").fill("weather")
    commands.get_by_label("URL").fill("https://93.184.215.14/weather")
    commands.get_by_role("button", name="Add").click()
    expect(commands.locator(".integration-item")).to_contain_text("/weather")
    alice.composer.press_sequentially("/w")
    expect(page.locator("#command-menu").get_by_role("option")).to_have_text(["/weather ...custom"])

    # Someone else (a guest) has no such button.
    bob = open_chat(unique("bob"))
    bob.join(room)
    expect(bob.page.get_by_role("button", name="Integrations")).to_be_hidden()

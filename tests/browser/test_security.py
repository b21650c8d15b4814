"""What people type is shown as text: markup in a message never becomes HTML or runs."""
from __future__ import annotations

import pytest

from tests.browser.pages import expect
from tests.support import unique

pytestmark = pytest.mark.e2e

PAYLOADS = [
    "<img src=x onerror=window.__xss=1>",
    "<script>window.__xss=1</script>",
]
# The same inside what the page formats: code, code blocks, links and mentions.
FORMATTED = [
    "in code: `<img src=x onerror=window.__xss=1>`",
    "a block:\n```\n<script>window.__xss=1</script>\n```",
    'https://example.org/"><img src=x onerror=window.__xss=1>',
    "javascript:window.__xss=1 and [click](javascript:window.__xss=1)",
    "@<img src=x onerror=window.__xss=1>",
]


def test_markup_in_messages_is_literal_text(open_chat):
    room = unique("xss")
    mallory = open_chat(unique("mallory"))
    mallory.join(room)
    victim = open_chat(unique("victim"))
    victim.join(room)

    for payload in PAYLOADS + FORMATTED:
        mallory.send(payload)
    for person in (mallory, victim):
        for payload in PAYLOADS:
            expect(person.message(payload)).to_be_visible()
        expect(person.page.locator("#messages .msg")).to_have_count(len(PAYLOADS + FORMATTED))
        expect(person.page.locator("#messages img, #messages script")).to_have_count(0)
        # The one link is the http(s) part; no other scheme is ever clickable.
        links = person.page.locator("#messages a")
        expect(links).to_have_count(1)
        expect(links).to_have_attribute("href", "https://example.org/")
        assert person.page.evaluate("typeof window.__xss") == "undefined"
    # Reloading renders the same payloads from history, through the same code path.
    victim.page.reload()
    victim.open_room(room)
    expect(victim.message(PAYLOADS[0])).to_be_visible()
    assert victim.page.evaluate("typeof window.__xss") == "undefined"
    victim.screenshot("xss-as-text")

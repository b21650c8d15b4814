"""A page-object for the chat page, so tests read as what a person does and sees."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

try:
    from playwright.sync_api import Locator, Page, expect
except ImportError:  # pragma: no cover - depends on the environment
    if os.environ.get("CI", "").lower() == "true":
        raise
    pytest.skip("Playwright is not installed: pip install -e '.[test]'", allow_module_level=True)

ROOT = Path(__file__).resolve().parent.parent.parent
ARTIFACTS = ROOT / "test-artifacts"  # gitignored; screenshots of the main states land here


class ChatPage:
    """One person's tab: log in, join rooms, send, and find what is on screen."""

    def __init__(self, page: Page, name: str | None, url: str) -> None:
        self.page, self.name, self.url = page, name, url

    def open(self) -> None:
        self.page.goto(self.url)

    def login(self, name: str | None = None) -> None:
        self.page.locator("#nickname").fill(name or self.name)
        self.page.locator("#login-form button[type=submit]").click()
        self.expect_state("connected")
        # The first connect joins #general; wait for it so later joins do not race it.
        expect(self.page.locator("#room-title")).not_to_have_text("No room")

    def expect_state(self, state: str, timeout: float | None = None) -> None:
        expect(self.page.locator("#conn-state")).to_have_attribute("data-state", state, timeout=timeout)

    def join(self, room: str) -> None:
        self.page.locator("#join-room").fill(room)
        self.page.locator("#join-room").press("Enter")
        expect(self.page.locator("#room-title")).to_have_text(f"#{room}")

    def open_room(self, room: str) -> None:
        self.page.locator(f"#room-list button[data-room='{room}']").click()
        expect(self.page.locator("#room-title")).to_have_text(f"#{room}")

    def send(self, text: str) -> None:
        self.composer.fill(text)
        self.composer.press("Enter")

    @property
    def composer(self) -> Locator:
        return self.page.locator("#composer-text")

    def message(self, text: str) -> Locator:
        """A delivered message (not a pending one) whose text is exactly ``text``."""
        return self.page.locator("#messages .msg-text").filter(has_text=re.compile(f"^{re.escape(text)}$"))

    def message_item(self, text: str) -> Locator:
        """The whole entry (author line, time, text) of the delivered message ``text``."""
        exactly = self.page.locator(".msg-text").filter(has_text=re.compile(f"^{re.escape(text)}$"))
        return self.page.locator("#messages .msg").filter(has=exactly)

    def message_id(self, text: str) -> int:
        return int(self.message_item(text).get_attribute("data-id"))

    def reactions(self, text: str) -> Locator:
        """The reaction chips (not the "+" one) under the delivered message ``text``."""
        return self.message_item(text).locator(".reaction:not(.add-reaction)")

    def action(self, text: str, label: str) -> Locator:
        """A button of the message's toolbar, by its label ("Edit", "Delete", ...): hovers first."""
        item = self.message_item(text)
        item.hover()
        return item.locator(".msg-actions").get_by_role("button", name=label, exact=True)

    @property
    def thread(self) -> Locator:
        return self.page.locator("#thread-view")

    def texts(self) -> list[str]:
        """The text of every delivered message in the room in view, top to bottom."""
        return self.page.locator("#messages .msg-text").all_text_contents()

    @property
    def pending(self) -> Locator:
        return self.page.locator("#pending .msg")

    @property
    def banner(self) -> Locator:
        return self.page.locator("#conn-banner")

    def expect_transport(self, name: str) -> None:
        expect(self.page.locator("#conn-state")).to_have_attribute("data-transport", name)

    @property
    def notices(self) -> Locator:
        return self.page.locator("#messages .notice")

    def notice_texts(self) -> list[str]:
        """Every join/leave line of the room in view, top to bottom."""
        return self.notices.all_text_contents()

    @property
    def members(self) -> Locator:
        return self.page.locator("#member-list")

    @property
    def typing(self) -> Locator:
        return self.page.locator("#typing")

    def room_button(self, room: str) -> Locator:
        return self.page.locator(f"#room-list button[data-room='{room}']")

    def dm_button(self, room: str) -> Locator:
        return self.page.locator(f"#dm-list button[data-room='{room}']")

    @property
    def title(self) -> Locator:
        return self.page.locator("#room-title")

    @property
    def toasts(self) -> Locator:
        return self.page.locator("#toasts .toast")

    # -- search ----------------------------------------------------------------------------------
    @property
    def search_box(self) -> Locator:
        return self.page.locator("#search-input")

    def search(self, query: str) -> None:
        """Type ``query`` in the header's search box and press Enter; wait for the answer."""
        self.search_box.fill(query)
        self.search_box.press("Enter")
        expect(self.page.locator("#search-view")).to_be_visible()
        expect(self.page.locator("#search-status")).not_to_have_text("Searching...")

    @property
    def hits(self) -> Locator:
        """The search results shown, top (newest) to bottom."""
        return self.page.locator("#search-results .search-hit")

    @property
    def search_status(self) -> Locator:
        return self.page.locator("#search-status")

    @property
    def search_error(self) -> Locator:
        return self.page.locator("#search-error")

    def screenshot(self, name: str, path: Path | None = None, full_page: bool = False) -> None:
        self.page.screenshot(path=str(path or ARTIFACTS / f"{name}.png"), full_page=full_page)

"""Pages that show secrets are never cached: a new API token, CSRF tokens, message history.

Attack tried: reading a secret back out of a cache after the page was seen -- the browser's back
button or disk cache on a shared computer, or a proxy in between. Every such response of the real
server says ``Cache-Control: no-store``.
"""
import re

import pytest

from tests.auth.test_limits import CSRF, PASSWORD, Browser
from tests.support import unique

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def browser(live_server):
    name = unique("cache")
    live_server.flask("users", "create", name, "--password", PASSWORD)
    browser = Browser(live_server.url, "127.0.3.1")
    assert browser.login(name) == 302
    return browser


def no_store(response) -> bool:
    return "no-store" in response.headers.get("Cache-Control", "")


def test_the_page_showing_a_new_token_is_not_stored(live_server, browser):
    page = browser.session.get(live_server.url + "/auth/settings", timeout=10)
    token = CSRF.search(page.text).group(1)
    created = browser.session.post(
        live_server.url + "/auth/settings", data={"name": "bot", "csrf_token": token}, timeout=10
    )
    clear = re.search(r"<code>(pt_[^<]+)</code>", created.text).group(1)
    assert created.status_code == 200 and no_store(created)
    assert no_store(page)
    # and the token it showed reads private messages, which are not stored either
    read = browser.session.get(
        live_server.url + "/api/rooms/general/messages",
        headers={"Authorization": f"Bearer {clear}"}, timeout=10,
    )
    assert read.status_code == 200 and no_store(read)
    posted = browser.session.post(
        live_server.url + "/api/rooms/general/messages", json={"text": "hi"},
        headers={"Authorization": f"Bearer {clear}"}, timeout=10,
    )
    assert posted.status_code == 201 and no_store(posted)


@pytest.mark.parametrize("path", ["/auth/login", "/auth/register", "/auth/settings"])
def test_account_pages_carrying_csrf_tokens_are_not_stored(live_server, browser, path):
    assert no_store(browser.session.get(live_server.url + path, timeout=10))

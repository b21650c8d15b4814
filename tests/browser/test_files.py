"""Files and images in the page: attached with the picker, pasted (a screenshot) or dropped, each
uploading as a chip above the composer; the message goes once they are up, with their ids. Images
show as previews that open full size; other files as cards with a download link. Failures (a type
the server refuses, too large, over the quota) show on the chip and send nothing; guests get no
attach control; a lost answer is retried with the same client_id and the same files."""
from __future__ import annotations

import base64
import io
import json
import re

import pytest
from PIL import Image

from tests.browser.pages import ChatPage, expect
from tests.support import LiveServer, unique

pytestmark = pytest.mark.e2e

PDF = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
       b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
JUNK = bytes(range(256)) * 16  # NULs and stray bytes: no type the server accepts


def png(width: int, height: int, color: tuple[int, int, int] = (220, 120, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, format="PNG")
    return out.getvalue()


def pick_files(chat: ChatPage, *files: tuple[str, str, bytes]) -> None:
    """Choose files (name, MIME type, bytes) in the picker the attach button opens."""
    with chat.page.expect_file_chooser() as chooser:
        chat.page.locator("#attach").click()
    assert chooser.value.is_multiple()
    chooser.value.set_files([{"name": n, "mimeType": t, "buffer": b} for n, t, b in files])


def paste_image(chat: ChatPage, data: bytes, name: str = "image.png", text: str | None = None) -> None:
    """What a screenshot pasted into the composer looks like to the page: a paste event whose
    clipboard holds one image file (and no text, unless ``text``)."""
    chat.page.evaluate(
        """([b64, name, text]) => {
          const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
          const data = new DataTransfer();
          if (text !== null) data.setData("text/plain", text);
          data.items.add(new File([bytes], name, { type: "image/png" }));
          const box = document.getElementById("composer-text");
          box.focus();
          box.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
        }""",
        [base64.b64encode(data).decode(), name, text],
    )


def drop_file(chat: ChatPage, name: str, mime: str, data: bytes, target: str = "#scroller") -> None:
    """Drag a file over the conversation and drop it (the events a drag from the desktop fires)."""
    chat.page.evaluate(
        """([b64, name, mime, target]) => {
          const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
          const data = new DataTransfer();
          data.items.add(new File([bytes], name, { type: mime }));
          const node = document.querySelector(target);
          for (const type of ["dragenter", "dragover", "drop"]) {
            node.dispatchEvent(new DragEvent(type, { dataTransfer: data, bubbles: true, cancelable: true }));
          }
        }""",
        [base64.b64encode(data).decode(), name, mime, target],
    )


def chips(chat: ChatPage):
    return chat.page.locator("#attachments .chip")


def wait_loaded(chat: ChatPage, selector: str) -> None:
    chat.page.wait_for_function(
        "(s) => { const img = document.querySelector(s); return img && img.complete && img.naturalWidth > 0; }",
        arg=selector)


def natural_width(chat: ChatPage, selector: str) -> int:
    return chat.page.eval_on_selector(selector, "(img) => img.naturalWidth")


def two_accounts(accounts, open_account, server=None, known=None):
    alice, bob = accounts.make("alice", "bob")
    if known is not None:  # open_account's own list, when these were made on another server
        known.cookies.update(accounts.cookies)
    room = unique("files")
    pages = [open_account(alice, server=server), open_account(bob, server=server)]
    for page in pages:
        page.join(room)
    return room, pages[0], pages[1]


def stored(server, chat: ChatPage, room: str) -> list[dict]:
    """The room's messages as the server has them (the REST API, with the page's session)."""
    response = chat.page.request.get(f"{server.url}/api/rooms/{room}/messages?limit=100")
    assert response.status == 200, response.text()
    return response.json()["messages"]


def test_an_image_from_the_picker_shows_as_a_preview_and_opens_full_size(open_account, accounts, live_server):
    room, alice, bob = two_accounts(accounts, open_account)
    pick_files(alice, ("sunset.png", "image/png", png(1200, 800)))
    chip = chips(alice)
    expect(chip).to_have_count(1)
    expect(chip.locator(".chip-name")).to_have_text("sunset.png")
    expect(chip.locator(".chip-size")).to_have_text(re.compile(r"^\d+(\.\d)? (bytes|KB)$"))
    expect(chip).to_have_attribute("data-state", "done")
    expect(chip.locator(".chip-state")).to_have_text("Ready")
    expect(chip.locator(".chip-thumb img")).to_have_count(1)  # the server's thumbnail, once uploaded
    alice.screenshot("file-chip")
    alice.send("the view from here")
    expect(alice.page.locator("#attach-tray")).to_be_hidden()
    expect(chips(alice)).to_have_count(0)

    # The other person: a preview the size of the thumbnail drawn at most 320x240, its space
    # reserved before it loads.
    item = bob.message_item("the view from here")
    preview = item.locator(".file-preview")
    expect(preview).to_have_count(1)
    img = preview.locator("img")
    expect(img).to_have_attribute("width", "320")
    expect(img).to_have_attribute("height", "213")
    expect(img).to_have_attribute("alt", "sunset.png")
    selector = f"#messages .msg[data-id='{bob.message_id('the view from here')}'] .file-preview img"
    wait_loaded(bob, selector)
    assert natural_width(bob, selector) == 480  # the thumbnail, not the whole image
    box = img.bounding_box()
    assert round(box["width"]) == 320 and round(box["height"]) == 213
    bob.screenshot("file-preview")

    # A click opens it full size, with its name, size and a download link; Escape closes.
    preview.click()
    viewer = bob.page.locator("dialog.viewer-dialog")
    expect(viewer).to_be_visible()
    expect(viewer.locator(".dialog-title")).to_have_text("sunset.png")
    expect(viewer.locator(".viewer-meta")).to_contain_text("1200 × 800")
    wait_loaded(bob, "dialog.viewer-dialog .viewer-image")
    assert natural_width(bob, "dialog.viewer-dialog .viewer-image") == 1200
    download = viewer.get_by_role("link", name="Download")
    href = download.get_attribute("href")
    assert re.fullmatch(r"/api/files/\d+/sunset\.png", href)
    response = bob.page.request.get(live_server.url + href)
    assert response.status == 200 and response.headers["content-type"] == "image/png"
    bob.screenshot("file-viewer")
    bob.page.keyboard.press("Escape")
    expect(viewer).to_have_count(0)
    expect(preview).to_be_focused()

    # From the keyboard: Enter on the focused preview opens it too.
    bob.page.keyboard.press("Enter")
    expect(viewer).to_be_visible()
    viewer.get_by_role("button", name="Close").click()
    expect(viewer).to_have_count(0)

    # The sender sees the same, and the server stored one file with the message.
    expect(alice.message_item("the view from here").locator(".file-preview img")).to_have_attribute("alt", "sunset.png")
    [message] = [m for m in stored(live_server, bob, room) if m["text"] == "the view from here"]
    assert [(f["name"], f["type"], f["width"], f["height"]) for f in message["files"]] == [
        ("sunset.png", "image/png", 1200, 800)]


def test_a_pasted_screenshot_and_a_dropped_file_are_uploaded_and_sent(open_account, accounts, live_server):
    room, alice, bob = two_accounts(accounts, open_account)
    # Copied from a page or a spreadsheet, the clipboard has text and a picture of it: the text wins.
    paste_image(alice, png(50, 20), text="some cells")
    expect(alice.page.locator("#attach-tray")).to_be_hidden()
    # A screenshot pasted alone: the message has no text, only the image.
    paste_image(alice, png(300, 200, (30, 140, 200)))
    chip = chips(alice)
    expect(chip.locator(".chip-name")).to_have_text(re.compile(r"^Pasted image \d{4}-\d\d-\d\d \d\d\.\d\d\.\d\d\.png$"))
    expect(chip).to_have_attribute("data-state", "done")
    expect(alice.composer).to_have_value("")  # nothing of the clipboard went into the text
    alice.composer.press("Enter")
    expect(chips(alice)).to_have_count(0)
    pasted = bob.page.locator("#messages .msg .file-preview img")
    expect(pasted).to_have_count(1)
    expect(pasted).to_have_attribute("alt", re.compile(r"^Pasted image .*\.png$"))
    expect(pasted).to_have_attribute("width", "300")  # smaller than the preview box: as it is

    # A file dropped on the conversation, sent with words.
    drop_file(alice, "diagram.png", "image/png", png(640, 480, (20, 160, 90)))
    expect(chips(alice).locator(".chip-name")).to_have_text("diagram.png")
    expect(chips(alice)).to_have_attribute("data-state", "done")
    alice.send("dropped in")
    dropped = bob.message_item("dropped in").locator(".file-preview img")
    expect(dropped).to_have_attribute("alt", "diagram.png")
    expect(dropped).to_have_attribute("height", "240")
    messages = stored(live_server, bob, room)
    assert [(m["text"], [f["name"] for f in m["files"]]) for m in messages][-1] == ("dropped in", ["diagram.png"])
    assert messages[-2]["text"] == "" and len(messages[-2]["files"]) == 1


def test_send_waits_for_the_uploads_then_goes_with_their_ids(open_account, accounts, live_server):
    """Enter while a file is still uploading: the message goes once the upload is done."""
    room, alice, bob = two_accounts(accounts, open_account)
    held = []
    alice.page.route("**/api/rooms/*/files", lambda route: held.append(route))
    drop_file(alice, "late.txt", "text/plain", b"this one takes its time\n")
    expect(chips(alice)).to_have_attribute("data-state", "uploading")
    expect(chips(alice).locator("progress")).to_be_visible()
    alice.send("with a slow file")
    expect(alice.page.locator("#attach-status")).to_have_text("The message is sent as soon as the files are uploaded.")
    expect(alice.composer).to_have_value("with a slow file")
    expect(alice.pending).to_have_count(0)
    assert len(held) == 1
    held[0].continue_()
    expect(bob.message_item("with a slow file").locator(".file-card .file-name")).to_have_text("late.txt")
    expect(alice.composer).to_have_value("")
    expect(chips(alice)).to_have_count(0)
    [message] = [m for m in stored(live_server, bob, room) if m["text"] == "with a slow file"]
    assert [f["name"] for f in message["files"]] == ["late.txt"]


def test_other_files_are_cards_with_a_download_link_in_the_timeline_threads_and_search(
        open_account, accounts, live_server):
    _room, alice, bob = two_accounts(accounts, open_account)
    notes = b"minutes of the quarterly meeting\n"
    pick_files(alice, ("notes.txt", "text/plain", notes), ("report.pdf", "application/pdf", PDF))
    expect(chips(alice)).to_have_count(2)
    for n in range(2):
        expect(chips(alice).nth(n)).to_have_attribute("data-state", "done")
    alice.send("the quarterly papers")
    cards = bob.message_item("the quarterly papers").locator(".file-card")
    expect(cards).to_have_count(2)
    expect(cards.locator(".file-name")).to_have_text(["notes.txt", "report.pdf"])
    expect(cards.locator(".file-meta")).to_have_text([f"Text · {len(notes)} bytes", f"PDF document · {len(PDF)} bytes"])
    expect(cards.locator(".file-icon")).to_have_text(["TXT", "PDF"])
    expect(cards.nth(0).locator(".file-icon")).to_have_attribute("data-kind", "text")
    expect(cards.nth(1).locator(".file-icon")).to_have_attribute("data-kind", "pdf")
    link = cards.first.get_by_role("link", name=re.compile("^Download notes.txt"))
    href = link.get_attribute("href")
    response = bob.page.request.get(live_server.url + href)
    assert response.status == 200
    assert response.headers["content-disposition"].startswith('attachment; filename="notes.txt"')
    assert response.body() == notes
    pdf = bob.page.request.get(live_server.url + cards.nth(1).locator("a").get_attribute("href"))
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"].startswith('attachment; filename="report.pdf"')
    # The link downloads (the browser saves it rather than opening it).
    with bob.page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "notes.txt"
    bob.screenshot("file-cards")

    # In its thread, and in search results.
    bob.action("the quarterly papers", "Reply in thread").click()
    expect(bob.page.locator("#thread-root .file-card .file-name")).to_have_text(["notes.txt", "report.pdf"])
    bob.search("quarterly papers")
    expect(bob.hits).to_have_count(1)
    expect(bob.hits.first.locator(".files-line")).to_contain_text("notes.txt and report.pdf")


def test_a_refused_file_shows_why_and_nothing_is_sent(open_account, accounts, live_server):
    room, alice, bob = two_accounts(accounts, open_account)
    pick_files(alice, ("junk.bin", "application/octet-stream", JUNK))
    chip = chips(alice)
    expect(chip).to_have_attribute("data-state", "failed")
    expect(chip.locator(".chip-state")).to_contain_text("This kind of file is not accepted")
    expect(chip.get_by_role("button", name="Try uploading junk.bin again")).to_be_hidden()  # it would fail again
    alice.screenshot("file-refused")
    alice.send("with the junk")
    expect(alice.page.locator("#attach-status")).to_contain_text("Not sent: remove the files that could not be uploaded")
    expect(alice.composer).to_have_value("with the junk")
    expect(alice.pending).to_have_count(0)
    expect(alice.message("with the junk")).to_have_count(0)
    # Removed, the words go alone.
    chip.get_by_role("button", name="Remove junk.bin").click()
    expect(chips(alice)).to_have_count(0)
    expect(alice.composer).to_be_focused()
    alice.composer.press("Enter")
    expect(bob.message("with the junk")).to_be_visible()
    expect(bob.message_item("with the junk").locator(".msg-files")).to_have_count(0)
    assert [m["files"] for m in stored(live_server, bob, room) if m["text"] == "with the junk"] == [[]]


def test_a_guest_has_no_attach_control_and_cannot_open_files(open_chat, open_account, accounts, live_server):
    [alice] = accounts.make("alice")
    owner = open_account(alice)
    room = unique("mixed")
    owner.join(room)
    guest = open_chat(unique("guest"))
    guest.join(room)
    expect(guest.page.locator("#attach")).to_have_count(0)
    expect(guest.page.locator("#attach-tray")).to_have_count(0)
    expect(guest.page.locator('meta[name="csrf-token"]')).to_have_count(0)
    pick_files(owner, ("photo.png", "image/png", png(200, 100)))
    expect(chips(owner)).to_have_attribute("data-state", "done")
    owner.send("a photo for everyone")
    # File addresses answer only to accounts: a guest sees what was sent, not a broken picture.
    card = guest.message_item("a photo for everyone").locator(".file-card")
    expect(card.locator(".file-name")).to_have_text("photo.png")
    expect(card.locator(".file-locked")).to_have_text("Log in to open")
    expect(guest.message_item("a photo for everyone").locator("img, a[href^='/api/files']")).to_have_count(0)
    # A file dropped by a guest is not opened in place of the page.
    drop_file(guest, "x.txt", "text/plain", b"hello\n")
    expect(guest.toasts.filter(has_text="Guests cannot share files")).to_be_visible()
    assert guest.page.url.startswith(live_server.url)


@pytest.fixture(scope="module")
def small_server(tmp_path_factory):
    """A server of its own with small file limits: 60 KB a file, 100 KB in all per account."""
    server = LiveServer(tmp_path_factory.mktemp("small-files"), MAX_UPLOAD_SIZE="60000",
                        USER_FILE_QUOTA="100000")
    server.start()
    yield server
    server.stop()


def test_too_large_and_over_the_quota_are_explained(open_account, accounts, small_server):
    from tests.browser.conftest import Accounts

    there = Accounts(small_server)  # made in that server's database; open_account knows them after
    _room, alice, bob = two_accounts(there, open_account, server=small_server, known=accounts)
    pick_files(alice, ("big.txt", "text/plain", b"a" * 70_000))
    expect(chips(alice)).to_have_attribute("data-state", "failed")
    expect(chips(alice).locator(".chip-state")).to_have_text("Too large: a file may be at most 59 KB.")
    chips(alice).get_by_role("button", name="Remove big.txt").click()
    pick_files(alice, ("first.txt", "text/plain", b"b" * 55_000))
    first = chips(alice).nth(0)
    expect(first).to_have_attribute("data-state", "done")
    pick_files(alice, ("second.txt", "text/plain", b"c" * 55_000))
    second = chips(alice).nth(1)
    expect(second).to_have_attribute("data-state", "failed")
    expect(second.locator(".chip-state")).to_have_text(
        "Not enough space left: your files may take 98 KB in all (54 KB used).")
    second.get_by_role("button", name="Remove second.txt").click()
    alice.send("one of two")
    expect(bob.message_item("one of two").locator(".file-name")).to_have_text("first.txt")


class Saboteur:
    """Loses the server's answers (ack and broadcast) to the first try of one message."""

    def __init__(self, marker: str) -> None:
        self.marker = marker
        self.sent: list[tuple[str, list[int]]] = []  # (client_id, files) of each try

    def route(self, ws) -> None:
        server = ws.connect_to_server()
        ws.on_message(lambda frame: self.from_page(frame, server))
        server.on_message(lambda frame: self.from_server(frame, ws))

    def from_page(self, frame, server) -> None:
        if isinstance(frame, str) and self.marker in frame:
            data = json.loads(frame[frame.index("["):])[1]
            self.sent.append((data["client_id"], data.get("files")))
        server.send(frame)

    def from_server(self, frame, ws) -> None:
        if isinstance(frame, str) and self.marker in frame and len(self.sent) < 2:
            return
        ws.send(frame)


def test_a_lost_answer_is_retried_with_the_same_client_id_and_files(open_account, accounts, live_server):
    saboteur = Saboteur("files whose answer is lost")
    alice_name, bob_name = accounts.make("alice", "bob")

    def setup(page):
        page.route_web_socket("**/socket.io/**", saboteur.route)
        page.clock.install()

    alice = open_account(alice_name, setup=setup)
    alice.expect_transport("websocket")
    bob = open_account(bob_name)
    room = unique("lossy")
    alice.join(room)
    bob.join(room)
    pick_files(alice, ("kept.png", "image/png", png(100, 100)))
    expect(chips(alice)).to_have_attribute("data-state", "done")
    alice.send(saboteur.marker)
    expect(alice.pending.locator(".pending-files")).to_contain_text("kept.png")
    expect(bob.message_item(saboteur.marker).locator(".file-preview img")).to_have_attribute("alt", "kept.png")
    alice.page.clock.fast_forward(11_000)  # past the 10 s ack timeout: the page sends again
    expect(alice.message(saboteur.marker)).to_have_count(1)
    expect(alice.pending).to_have_count(0)
    # The answer to the retry describes the stored message; the page shows it with its file.
    expect(alice.message_item(saboteur.marker).locator(".file-preview img")).to_have_attribute("alt", "kept.png")
    assert len(saboteur.sent) == 2 and saboteur.sent[0] == saboteur.sent[1]
    assert saboteur.sent[0][1] and len(saboteur.sent[0][1]) == 1
    messages = [m for m in stored(live_server, bob, room) if m["text"] == saboteur.marker]
    assert len(messages) == 1 and [f["name"] for f in messages[0]["files"]] == ["kept.png"]


def test_an_expired_csrf_token_is_renewed_and_the_upload_goes_through(open_account, accounts):
    """The page's token is signed with a time (an hour, by default): a page open longer gets
    csrf_failed on its next upload, reads a fresh token and tries once more."""
    _room, alice, bob = two_accounts(accounts, open_account)
    meta = alice.page.locator('meta[name="csrf-token"]')
    good = meta.get_attribute("content")
    assert good
    alice.page.evaluate("""() => { document.querySelector('meta[name="csrf-token"]').content = "expired"; }""")
    answers = []
    alice.page.on("response", lambda r: "/files" in r.url and answers.append(r.status))
    pick_files(alice, ("renewed.txt", "text/plain", b"still here\n"))
    expect(chips(alice)).to_have_attribute("data-state", "done")
    assert answers == [400, 201]
    assert meta.get_attribute("content") not in ("", "expired")
    alice.send("after a renewal")
    expect(bob.message_item("after a renewal").locator(".file-name")).to_have_text("renewed.txt")

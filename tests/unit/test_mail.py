"""webapp/mail.py against a real SMTP server on loopback (aiosmtpd): what arrives, and failures
that a sender must be able to retry."""
import pytest

from tests.mailbox import Mailbox
from tests.support import free_port
from webapp import mail
from webapp.config import Config


def settings(**more) -> dict:
    return {**Config({}).as_dict(), **more}


@pytest.fixture
def mailbox():
    with Mailbox() as box:
        yield box


def test_a_message_arrives_with_its_text_html_and_headers(mailbox):
    config = settings(**mailbox.config)
    mail.send(config, "bob@example.com", "You were mentioned", "alice: hi @bob",
              html="<p>alice: hi <b>@bob</b></p>", headers={"List-Unsubscribe": "<https://x/u>"})
    got = mailbox.wait_for(lambda m: m["To"] == "bob@example.com")
    assert got["Subject"] == "You were mentioned"
    assert got["From"] == "Parley <parley@example.test>"
    assert got["List-Unsubscribe"] == "<https://x/u>"
    assert got.get_body(("plain",)).get_content().strip() == "alice: hi @bob"
    assert "<b>@bob</b>" in got.get_body(("html",)).get_content()


def test_a_temporary_refusal_is_a_mail_error(mailbox):
    mailbox.refuse = True
    with pytest.raises(mail.MailError):
        mail.send(settings(**mailbox.config), "bob@example.com", "s", "t")
    assert mailbox.count() == 0


def test_an_unreachable_server_is_a_mail_error():
    config = settings(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_SECURITY="none",
                      SMTP_TIMEOUT=2.0)
    with pytest.raises(mail.MailError):
        mail.send(config, "bob@example.com", "s", "t")


def test_without_smtp_host_nothing_is_sent():
    config = settings()
    assert not mail.enabled(config)
    with pytest.raises(mail.MailError):
        mail.send(config, "bob@example.com", "s", "t")


def test_smtp_security_must_be_known():
    with pytest.raises(ValueError):
        Config({"SMTP_SECURITY": "tls-please"})

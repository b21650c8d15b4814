"""The SSRF guard: only public addresses, unless WEBHOOK_ALLOWED_NETWORKS allows a network."""
import pytest

from webapp.errors import AppError
from webapp.integrations import ssrf


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/hook", "http://localhost:8080/x", "http://10.0.0.1/", "http://192.168.1.5/",
    "http://172.16.0.1/", "http://169.254.169.254/latest/meta-data/", "http://[::1]/",
    "http://[::ffff:127.0.0.1]/", "http://[fe80::1]/", "http://0.0.0.0/", "http://224.0.0.1/",
    "http://[fc00::1]/", "http://100.64.0.1/", "http://240.0.0.1/",
])
def test_non_public_targets_are_refused(app, url):
    with app.app_context(), pytest.raises(ssrf.TargetRefused) as refused:
        ssrf.resolve(url)
    assert refused.value.code == "target_refused"


@pytest.mark.parametrize("url", [
    "ftp://example.com/", "file:///etc/passwd", "gopher://x/", "http://", "not a url", 42, None,
    "http://user:pw@example.com/", "http://example.com:99999/", "http://" + "a" * 2000 + ".com/",
])
def test_malformed_urls_are_invalid(app, url):
    with app.app_context(), pytest.raises(AppError) as refused:
        ssrf.resolve(url)
    assert refused.value.code == "invalid_url"


def test_an_allowed_network_admits_loopback_and_no_more(app):
    app.config["WEBHOOK_ALLOWED_NETWORKS"] = ["127.0.0.0/8"]
    with app.app_context():
        target = ssrf.resolve("http://127.0.0.1:8080/a?b=1")
        assert (target.address, target.port, target.path) == ("127.0.0.1", 8080, "/a?b=1")
        for url in ("http://10.0.0.1/", "http://169.254.169.254/", "http://[::1]/"):
            with pytest.raises(ssrf.TargetRefused):
                ssrf.resolve(url)


def test_public_addresses_pass(app):
    with app.app_context():
        assert ssrf.resolve("https://93.184.215.14/x").address == "93.184.215.14"

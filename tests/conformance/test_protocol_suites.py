"""The official Engine.IO and Socket.IO protocol test suites, passed by Parley's serving path.

The suites are the ``test-suite/`` folders of socketio/engine.io-protocol and
socketio/socket.io-protocol (mocha). They are not in this repository -- one states no licence and
Parley copies no one's code -- and CI reaches only package registries, so these tests run on
request, where checkouts of the two repositories are at hand:

    PARLEY_PROTOCOL_SUITES=/path/holding/both/checkouts \
        .venv/bin/python -m pytest tests/conformance -m protocol_suites

(``/path/.../engine.io-protocol/test-suite/test-suite.js`` and the same for socket.io-protocol.)
They are deselected otherwise (pyproject.toml: ``-m "not protocol_suites"``); what each divergence
from the protocols that Parley fixed looks like is tested in every run by
``test_parley_strictness.py`` and ``tests/e2e/test_polling_batches.py``.

Each suite is run with mocha against the fixture server (fixture.py: Parley started as wsgi.py
starts it, configured and given handlers the way the suites' READMEs set up their reference
servers). Every test must pass, except those a correct server cannot pass, listed with the reason
in ``CANNOT_PASS`` (none).

The suites time the heartbeat in hundreds of milliseconds (their reference configuration pings
every 300 ms and allows 200 ms for the answer) and race a few requests against each other (a
GET and a POST sent at once must arrive in that order). On a loaded machine such a test can miss
by a few milliseconds, so a failed test is run again on its own, ``RERUNS`` times at most, and
named in a warning when it passed only then; a divergence from the protocol fails every time.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest
import requests

from tests.support import ROOT, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.protocol_suites]

HERE = Path(__file__).resolve().parent
# Where the suites' files are put for a run: inside this folder, so that node finds the npm
# packages of package.json here (git-ignored).
RUN_DIR = HERE / ".suites"
# Tests per suite at the commits last checked (engine.io-protocol f21de7b, socket.io-protocol
# 4f633dd): fewer means a suite did not load or run whole.
SUITES = {"engine.io-protocol": 24, "socket.io-protocol": 32}
# "suite: full title" -> why a correct server cannot pass it. Keep it empty if you can.
CANNOT_PASS: dict[str, str] = {}
NODE_AT_LEAST = (18, 19)  # module.register, which redirect.mjs uses
RERUNS = 2


def unavailable(reason: str) -> None:
    """Skip on a machine without Node.js; in CI a missing tool is a failure, never a skip."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: the protocol suites must run)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def suites() -> Path:
    """The suites' files, from the checkouts PARLEY_PROTOCOL_SUITES points at."""
    root = os.environ.get("PARLEY_PROTOCOL_SUITES")
    if not root:
        pytest.fail("set PARLEY_PROTOCOL_SUITES to a folder holding checkouts of "
                    "socketio/engine.io-protocol and socketio/socket.io-protocol")
    for suite in SUITES:
        source = Path(root) / suite / "test-suite"
        assert (source / "test-suite.js").exists(), f"no {source / 'test-suite.js'}"
        target = RUN_DIR / suite
        target.mkdir(parents=True, exist_ok=True)
        for name in ("test-suite.js", "node-imports.js", "package.json"):
            shutil.copyfile(source / name, target / name)
    return RUN_DIR


@pytest.fixture(scope="module")
def node() -> str:
    """Node.js, with the suites' npm dependencies installed (``npm ci`` of package-lock.json)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        unavailable("node and npm are not installed")
    version = subprocess.run([node, "--version"], check=True, capture_output=True, text=True,
                             timeout=30)
    major, minor = (int(part) for part in version.stdout.strip().lstrip("v").split(".")[:2])
    if (major, minor) < NODE_AT_LEAST:
        unavailable(f"Node.js {version.stdout.strip()} is older than {NODE_AT_LEAST}")
    installed = HERE / "node_modules" / ".package-lock.json"
    lock = HERE / "package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        done = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
                              check=False, cwd=HERE, capture_output=True, text=True,
                              timeout=600)
        assert done.returncode == 0, f"npm ci failed:\n{done.stdout}\n{done.stderr}"
    return node


@pytest.fixture(scope="module")
def fixture_url(tmp_path_factory):
    """fixture.py on a free port; its log is shown when a suite fails."""
    workdir = tmp_path_factory.mktemp("conformance")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = workdir / "fixture.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.conformance.fixture", "--port", str(port),
             "--workdir", str(workdir)],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_up(proc, url, log_path)
        yield url, log_path
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_until_up(proc: subprocess.Popen, url: str, log_path: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the fixture server exited:\n{log_path.read_text(errors='replace')}")
        try:
            if requests.get(url + "/api/livez", timeout=1).ok:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.05)
    pytest.fail(f"the fixture server did not answer in {timeout}s")


def run_suite(node: str, suite: str, url: str, report: Path, only: str | None = None) -> dict:
    """Run one suite (or its tests whose full title contains ``only``) with mocha's
    JSON reporter; its report."""
    grep = ["--fgrep", only] if only else []
    report.unlink(missing_ok=True)
    done = subprocess.run(
        [node, "--import", "./redirect.mjs", "node_modules/mocha/bin/_mocha",
         "--reporter", "json", "--reporter-option", f"output={report}", *grep,
         f"{RUN_DIR.name}/{suite}/test-suite.js"],
        check=False, cwd=HERE, env={**os.environ, "SUITE_URL": url}, capture_output=True,
        text=True, timeout=240,
    )
    assert report.exists(), f"mocha wrote no report (exit {done.returncode}):\n{done.stderr}"
    return json.loads(report.read_text())


def failures(report: dict) -> dict[str, str]:
    return {test["fullTitle"]: test["err"].get("message", "") for test in report["failures"]}


@pytest.mark.timeout(600)  # npm ci on a fresh machine, then ~15 s per suite
@pytest.mark.parametrize("suite", SUITES)
def test_the_official_suite_passes(suite, suites, node, fixture_url, tmp_path):
    url, log_path = fixture_url
    report = run_suite(node, suite, url, tmp_path / "suite.json")
    titles = {test["fullTitle"] for test in report["tests"]}
    assert len(titles) == SUITES[suite], f"{suite}: {len(titles)} tests ran, not {SUITES[suite]}"
    cannot = {title.split(": ", 1)[1] for title in CANNOT_PASS if title.startswith(suite + ": ")}
    failed = {title: why for title, why in failures(report).items() if title not in cannot}

    passed_again = {}
    for title in sorted(failed):
        for _ in range(RERUNS):
            again = run_suite(node, suite, url, tmp_path / "again.json", only=title)
            if title in {test["fullTitle"] for test in again["passes"]}:
                passed_again[title] = failed.pop(title)
                break
            failed[title] = failures(again).get(title, "did not run")
    assert not failed, (
        f"{suite}: {len(failed)} of {len(titles)} failed, also when run again alone:\n"
        + "\n".join(f"- {title}: {why}" for title, why in sorted(failed.items()))
        + f"\n\nfixture log (end):\n{log_path.read_text(errors='replace')[-4000:]}"
    )
    if passed_again:
        warnings.warn(f"{suite}: passed only when run again: " + "; ".join(
            f"{title} (first: {why})" for title, why in sorted(passed_again.items())),
            stacklevel=1)
    passing = cannot - set(failures(report))
    assert not passing, f"{suite}: these pass now, drop them from CANNOT_PASS: {passing}"

"""The engine's start-up check: exact versions and private names, with a clear refusal."""
import re
import subprocess
import sys
import tomllib

import pytest

from tests.support import ROOT
from webapp.server import compat


def pinned_in_pyproject() -> dict[str, str]:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    return dict(re.fullmatch(r"([\w.-]+)==([\w.]+)", dep).groups() for dep in deps)


def test_the_engines_pins_are_pyprojects():
    pinned = {name.lower(): version for name, version in pinned_in_pyproject().items()}
    for package, version in compat.PINS.items():
        assert pinned.get(package.lower()) == version, f"{package}: pyproject and compat differ"


def test_the_installed_packages_are_what_the_engine_was_written_for():
    assert compat.problems() == []


def test_another_version_is_refused_naming_the_package(monkeypatch):
    real = compat.installed_version
    monkeypatch.setattr(compat, "installed_version",
                        lambda p: "4.99.0" if p == "python-engineio" else real(p))
    with pytest.raises(compat.IncompatibleEngine) as refused:
        compat.check()
    assert "python-engineio is 4.99.0" in str(refused.value)
    assert "written for 4.15.1" in str(refused.value)


def test_a_private_name_that_is_gone_is_named(monkeypatch):
    monkeypatch.setitem(compat.PRIVATE, "engineio.socket", ["Socket.no_such_method"])
    gone = "engineio.socket.Socket.no_such_method is gone (used by webapp/server)"
    assert compat.problems() == [gone]


@pytest.mark.e2e
def test_the_server_does_not_start_on_a_version_it_was_not_written_for(tmp_path):
    # python wsgi.py, with importlib.metadata reporting another python-engineio
    fake = ("import importlib.metadata as m, runpy; real = m.version; "
            "m.version = lambda n: '4.99.0' if n == 'python-engineio' else real(n); "
            "runpy.run_path('wsgi.py', run_name='__main__')")
    env = {"PATH": "/usr/bin:/bin", "PORT": "0", "SECRET_KEY": "x",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"}
    done = subprocess.run([sys.executable, "-c", fake], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 1, done.stderr
    assert "python-engineio is 4.99.0" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.e2e
def test_serving_in_threading_mode_is_refused_with_one_line(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "PORT": "0", "SECRET_KEY": "x", "ASYNC_MODE": "threading",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"}
    done = subprocess.run([sys.executable, "wsgi.py"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith(
        "error: python wsgi.py serves with ASYNC_MODE=eventlet only"), done.stderr

"""``flask export`` records each export in the audit log, as done from the server's shell."""
from __future__ import annotations

from tests.admin.conftest import audited
from tests.data.test_export import new_app, run


def test_the_export_command_is_audited(tmp_path):
    app = new_app(tmp_path, "first", "directory")
    done = run(app, "export", "--with-passwords", str(tmp_path / "out"))
    assert done.exit_code == 0, done.output
    [row] = audited(app, "export")
    assert row.actor_id is None and row.details["by"] == "flask command"
    assert row.details["with_passwords"] is True
    refused = run(app, "export", str(tmp_path / "out"))  # exists: nothing written, nothing audited
    assert refused.exit_code != 0 and len(audited(app, "export")) == 1

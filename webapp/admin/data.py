"""The console's "Data" page: the instance's export (docs/export.md) as a .zip download."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from flask import render_template, send_file
from flask_login import current_user

from webapp import audit
from webapp.admin.forms import EmptyForm
from webapp.admin.views import bp
from webapp.data import export as exports

DOWNLOAD = "parley-export.zip"


@bp.get("/data")
def data():
    """The export button (a CSRF-protected POST)."""
    return render_template("admin/data.html", form=EmptyForm())


@bp.post("/data/export")
def export():
    """Stream the export as a zip: never with password hashes (that is the shell's ``--with-
    passwords``); written to a temporary file, not held in memory, and removed once opened."""
    form = EmptyForm()
    if not form.validate_on_submit():
        return render_template("admin/data.html", form=form), 400
    directory = Path(tempfile.mkdtemp(prefix="parley-export-"))
    try:
        path = directory / DOWNLOAD
        # Stored, not deflated, so no CPU-heavy compression holds the event loop; the
        # database reads still run here (they yield to other greenlets while waiting).
        counts = exports.export(path, with_passwords=False, compress=False)
        handle = path.open("rb")
    finally:
        # The open handle keeps the bytes readable (POSIX) until the response has sent them.
        shutil.rmtree(directory, ignore_errors=True)
    audit.record("export", actor=current_user,
                 details={"by": "console", "messages": counts.get("messages"),
                          "files": counts.get("files")})
    return send_file(handle, mimetype="application/zip", as_attachment=True,
                     download_name=DOWNLOAD, max_age=0)

"""Entry point: ``python wsgi.py`` serves Parley; ``flask --app wsgi ...`` runs its commands."""
import os

if os.environ.get("ASYNC_MODE", "eventlet") == "eventlet":
    # First, before anything imports socket, ssl or threading: make them cooperative.
    import eventlet

    eventlet.monkey_patch()

from webapp import create_app  # noqa: E402
from webapp.extensions import socketio  # noqa: E402

app = create_app()

if __name__ == "__main__":
    from webapp.serving import run_options

    socketio.run(app, **run_options(app))

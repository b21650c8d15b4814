"""Entry point: ``python wsgi.py`` serves Parley; ``flask --app wsgi ...`` runs its commands."""
import os

if os.environ.get("ASYNC_MODE", "eventlet") == "eventlet":
    # First, before anything imports socket, ssl or threading: make them cooperative.
    import eventlet

    eventlet.monkey_patch()
    # psycopg2 is C code that would block the whole process on a slow query; this makes it wait
    # for PostgreSQL through eventlet's hub, so other clients are served meanwhile.
    from psycogreen.eventlet import patch_psycopg

    patch_psycopg()

from webapp import create_app  # noqa: E402
from webapp.chat import cluster  # noqa: E402
from webapp.extensions import socketio  # noqa: E402

app = create_app()

if __name__ == "__main__":
    from webapp.serving import run_options

    with cluster.duties(app):  # presence heartbeat with REDIS_URL; nothing without
        socketio.run(app, **run_options(app))

"""Entry point: ``python wsgi.py`` serves Parley; ``flask --app wsgi ...`` runs its commands."""
import os

if os.environ.get("ASYNC_MODE", "eventlet") == "eventlet":
    # First, before anything imports socket, ssl or threading: make them cooperative.
    import eventlet

    # This also makes psycopg2 (PostgreSQL) wait through eventlet's hub (its psycopg=True
    # default): a slow query then holds up only its own client, never the whole process.
    eventlet.monkey_patch()

from webapp import create_app  # noqa: E402
from webapp.chat import cluster  # noqa: E402
from webapp.extensions import socketio  # noqa: E402

app = create_app()

if __name__ == "__main__":
    from webapp.serving import run_options

    # Presence heartbeat with REDIS_URL; on SIGTERM a graceful exit (webapp/chat/cluster.py).
    with cluster.duties(app):
        socketio.run(app, **run_options(app))

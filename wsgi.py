"""Entry point: ``python wsgi.py`` serves Parley; ``flask --app wsgi ...`` runs its commands."""
import os
import sys
import warnings

# eventlet warns on import that it is in maintenance mode: a banner opening every start and every
# command, saying nothing an operator can act on. It skips it only under its own test suite
# (EVENTLET_TESTS); elsewhere a warnings filter is Python's way to silence a warning.
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

# Serving needs the standard library made cooperative, first, before anything imports socket,
# ssl or threading. The flask CLI has imported Flask (and werkzeug's context locals, which
# eventlet's late patching trips over) before it imports this file; its commands run no server
# and need no patching, so they go without.
if os.environ.get("ASYNC_MODE", "eventlet") == "eventlet" and "flask" not in sys.modules:
    import eventlet

    # This also makes psycopg2 (PostgreSQL) wait through eventlet's hub (its psycopg=True
    # default): a slow query then holds up only its own client, never the whole process.
    eventlet.monkey_patch()

from webapp import create_app
from webapp.chat import cluster
from webapp.server import lifecycle

app = create_app()

if __name__ == "__main__":
    from webapp.server import serving

    # Opened first: a port already in use ends here, with one line, before anything starts.
    listener = serving.listen(app)
    # Presence heartbeat with REDIS_URL; on SIGTERM a graceful exit (webapp/server/lifecycle.py).
    with lifecycle.duties(app, start=cluster.start):
        serving.serve(app, listener)

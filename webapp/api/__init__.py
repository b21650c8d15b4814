"""REST endpoints over the same chat service: rooms and messages (rooms.py), files (files.py),
health (health.py), notifications (notify.py), retention (retention.py), integrations
(integrations.py), profiles (profiles.py), read state and mentions (reads.py)."""
from webapp.api import (  # noqa: F401  (their routes attach to bp)
    files,
    health,
    integrations,
    notify,
    profiles,
    reads,
    retention,
    rooms,
)
from webapp.api.blueprint import bp

__all__ = ["bp"]

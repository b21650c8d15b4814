"""REST endpoints over the same chat service: rooms and messages (rooms.py), files (files.py),
health (health.py), read state and mentions (reads.py)."""
from webapp.api import files, health, reads, rooms  # noqa: F401  (their routes attach to bp)
from webapp.api.blueprint import bp

__all__ = ["bp"]

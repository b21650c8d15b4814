"""The REST blueprint, which the route modules attach to (mounted at /api by the factory)."""
from flask import Blueprint

bp = Blueprint("api", "webapp.api")

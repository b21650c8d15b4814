"""The data tests run on both databases: the integration layer's fixtures (SQLite and PostgreSQL)."""
from tests.integration.conftest import database_url, db_app  # noqa: F401

"""The committed migrations build exactly the schema the models describe."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from webapp.extensions import db


def test_upgrade_builds_the_schema_and_autogenerate_finds_no_difference(app):
    # the `app` fixture has already run `upgrade()` on an empty database
    with app.app_context():
        assert {"rooms", "messages", "alembic_version"} <= set(inspect(db.engine).get_table_names())
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"render_as_batch": True})
            assert compare_metadata(context, db.metadata) == []

"""Alembic's environment for Rabita: core's tables and those of the active plugins only."""

from alembic import context
from flask import current_app

from core.columns import UTCDateTime
from core.migrating import BRANCH_ATTRIBUTE, compared

config = context.config
database = current_app.extensions["migrate"].db


def include_object(obj, name, type_, reflected, compare_to):
    if type_ == "table":
        branch = config.attributes.get(BRANCH_ATTRIBUTE)
        return name == "alembic_version" or compared(current_app, name, reflected, compare_to,
                                                     branch)
    return True


def render_item(type_, obj, autogen_context):
    # Migrations stay plain SQLAlchemy: our UTC wrapper is a Python-side conversion only.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    return False


def run_migrations_offline():
    context.configure(
        url=str(database.engine.url),
        target_metadata=database.metadata,
        include_object=include_object,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    with database.engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=database.metadata,
            include_object=include_object,
            render_as_batch=True,  # SQLite alters tables by copying them
            compare_type=True,
            render_item=render_item,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

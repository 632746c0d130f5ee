"""Alembic environment: runs on the connection the store hands it (see booth_app.store.engine.migrate)."""

from alembic import context
from sqlmodel import SQLModel

from booth_app.store import tables  # noqa: F401 - registers the tables on the metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("migrations run through booth_app.store.engine.migrate, which passes a connection")

context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=True,  # SQLite cannot ALTER most things: batch mode copies the table
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()

"""Alembic environment shipped inside the package; always driven programmatically.

The caller passes an open connection in ``config.attributes["connection"]`` (Alembic cookbook,
"Sharing a Connection"), so migrations run inside the caller's write lock.
"""

from alembic import context

from tracker_sdk.store.schema import Base

config = context.config
connection = config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite has almost no ALTER TABLE: batch mode moves and copies
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()

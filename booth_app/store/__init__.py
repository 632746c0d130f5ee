"""The durable store: SQLModel tables, migrations and the async Store facade."""

from booth_app.store.outbox import OutboxItem, Report, encode_data
from booth_app.store.store import Store, StoreError

__all__ = ["OutboxItem", "Report", "Store", "StoreError", "encode_data"]

"""Opening the database: durable SQLite settings and schema migrations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).with_name("migrations")
# libpq's: give up connecting after 3 s; a connection whose sent data goes unacknowledged for 5 s, or that stays
# silent through three keepalives a second apart after 5 s idle, is dead.
SERVER_TIMEOUTS = {
    "connect_timeout": 3,
    "tcp_user_timeout": 5000,
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 1,
    "keepalives_count": 3,
}


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path.as_posix()}"


def create_engine(url: str) -> Engine:
    """An engine whose SQLite commits are durable: WAL, `synchronous=FULL` (fsync on commit), foreign keys on."""
    if not url.startswith("sqlite"):
        # A server on the site network that goes away must fail a lane's call in seconds, not after TCP's quarter of an
        # hour: the booth then carries on with its journal (see `journal.py`).
        server = sa.create_engine(url, pool_pre_ping=True, connect_args=SERVER_TIMEOUTS)
        sa.event.listen(server, "handle_error", _connection_lost)
        return server
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @sa.event.listens_for(engine, "connect")
    def _durable(dbapi_conn: Any, _record: Any) -> None:
        # PRAGMAs only work outside a transaction, and the sqlite3 module opens one on its own unless told not to.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        # Take the write lock up front: no deadlock upgrading a read transaction, and a second process waits its turn.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _connection_lost(context: sa.engine.ExceptionContext) -> None:
    """A connection whose socket went ("connection socket closed", no SQLSTATE) is thrown away, not pooled again.

    SQLAlchemy does not recognise every such psycopg error as a disconnect; the connection would go back to the pool
    with its transaction still open, and the next call's pre-ping would fail on it with an error of another kind.
    """
    dbapi = context.dialect.loaded_dbapi
    error = context.original_exception
    if isinstance(error, dbapi.OperationalError | dbapi.InterfaceError) and getattr(error, "sqlstate", None) is None:
        context.is_disconnect = True


def alembic_config(connection: sa.Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema up to the newest migration (a new file gets every table)."""
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "head")


def revision(message: str) -> None:
    """Write a new migration for what changed in `tables.py` (for developers; compares with a scratch database)."""
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        engine = create_engine(sqlite_url(Path(scratch) / "scratch.db"))
        migrate(engine)
        with engine.begin() as connection:
            command.revision(alembic_config(connection), message=message, autogenerate=True)
        engine.dispose()

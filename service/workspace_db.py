"""The workspace store's SQLite file: one connection per call, WAL so readers never wait for a writer."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SCHEMA_VERSION = 2  # 2: leases (one replica does the housekeeping that must not run twice)
BUSY_TIMEOUT_S = 15.0  # how long a writer waits for another process's write before sqlite gives up

SCHEMA = """
CREATE TABLE IF NOT EXISTS workspaces (
    id TEXT PRIMARY KEY,             -- random, never derived from the token
    token_hash TEXT NOT NULL UNIQUE, -- sha256 of the cookie token: the token itself is never stored
    created REAL NOT NULL,
    last_used REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS models (
    id TEXT PRIMARY KEY,             -- random, also the file's name
    workspace TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name TEXT NOT NULL,              -- a label only: never part of a path
    created REAL NOT NULL,
    bytes INTEGER NOT NULL,
    meta TEXT NOT NULL               -- the file's string metadata as JSON, so listing reads no file
);
CREATE INDEX IF NOT EXISTS models_by_workspace ON models(workspace, created);
CREATE TABLE IF NOT EXISTS settings (
    workspace TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,             -- JSON
    updated REAL NOT NULL,
    PRIMARY KEY (workspace, key)
);
CREATE TABLE IF NOT EXISTS runs (
    workspace TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    run_id TEXT NOT NULL,
    status TEXT NOT NULL,
    detail TEXT NOT NULL,            -- JSON
    created REAL NOT NULL,
    updated REAL NOT NULL,
    PRIMARY KEY (workspace, run_id)
);
CREATE INDEX IF NOT EXISTS runs_by_status ON runs(status, updated);
CREATE TABLE IF NOT EXISTS leases (
    name TEXT PRIMARY KEY,           -- a chore, such as the retention sweep
    holder TEXT NOT NULL,            -- which process took it
    until REAL NOT NULL              -- nobody else takes it before this time
);
"""


def connect(path: Path) -> sqlite3.Connection:
    """Open the database in autocommit mode; every write goes through `write()`, which begins a transaction."""
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def initialise(path: Path) -> None:
    """Create the tables once and switch to WAL (kept in the file); safe when several processes start at once."""
    conn = connect(path)
    try:
        if conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
            return  # made before, by this process or another: WAL is a property of the file
        _retry_locked(lambda: conn.execute("PRAGMA journal_mode = WAL"))
        with write(conn):
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise RuntimeError(
                    f"The workspace database {path.name} was made by a newer version of the studio "
                    f"(schema {version}); update the studio or point STUDIO_DATA_DIR elsewhere."
                )
            for statement in SCHEMA.split(";"):  # no ";" inside a statement or a comment
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    finally:
        conn.close()


@contextmanager
def write(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction that takes the lock at its start (IMMEDIATE), so it cannot deadlock half-way."""
    _retry_locked(lambda: conn.execute("BEGIN IMMEDIATE"))
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    _retry_locked(lambda: conn.execute("COMMIT"))


@contextmanager
def opened(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection for one store call, closed after it."""
    conn = connect(path)
    try:
        yield conn
    finally:
        conn.close()


def _retry_locked(step, attempts: int = 5):
    """Run `step`, retrying a few times if sqlite still reports a lock after its own busy timeout."""
    for attempt in range(attempts):
        try:
            return step()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))

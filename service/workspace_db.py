"""The workspace store's SQLite file: one connection per call (reused: a few idle ones are kept), WAL so readers
never wait for a writer."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SCHEMA_VERSION = 2  # 2: leases (one replica does the housekeeping that must not run twice)
BUSY_TIMEOUT_S = 15.0  # how long a writer waits for another process's write before sqlite gives up
IDLE_KEPT = 4  # idle connections kept per database file for the next calls (opening one: ~1 ms and a dozen syscalls)
IDLE_FILES = 2  # database files with idle connections (a server has one; tests make many, each in its own folder)

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


def connect(path: Path, check_same_thread: bool = True) -> sqlite3.Connection:
    """Open the database in autocommit mode; every write goes through `write()`, which begins a transaction."""
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=check_same_thread)
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


_idle: OrderedDict[Path, list[tuple[sqlite3.Connection, tuple[int, int]]]] = OrderedDict()  # path -> (conn, file)
_idle_lock = threading.Lock()


def _identity(path: Path) -> tuple[int, int] | None:
    """The file a path names now (device, inode): a connection to a file since replaced must not be reused."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


@contextmanager
def opened(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection for one store call: an idle one of this process to the same file if any, else a new one.

    Every page run calls the store a few times (a Draw stroke saves the drawing); opening a connection each
    time was a tenth of the server's CPU in a class of 100 (bench/load_ws.py --profile). In autocommit mode an
    idle connection holds no transaction and no snapshot, so reusing one reads what any other connection or
    process wrote; one is used by one thread at a time (taken out of the list while in use).
    """
    key = Path(path)
    now = _identity(key)
    conn = None
    with _idle_lock:
        idle = _idle.get(key, [])
        while idle and conn is None:
            candidate, was = idle.pop()
            if was == now:
                conn = candidate
            else:  # the file was replaced or removed since: that connection points elsewhere
                candidate.close()
    if conn is None:
        conn = connect(key, check_same_thread=False)
        now = _identity(key)
    try:
        yield conn
    finally:
        _release(key, conn, now)


def _release(key: Path, conn: sqlite3.Connection, identity: tuple[int, int] | None) -> None:
    """Keep a clean connection for the next call, or close it."""
    evicted: list[sqlite3.Connection] = []
    kept = False
    if identity is not None and not conn.in_transaction:
        with _idle_lock:
            idle = _idle.setdefault(key, [])
            _idle.move_to_end(key)
            while len(_idle) > IDLE_FILES:  # the file used longest ago gives its connections up
                evicted += [old for old, _ in _idle.popitem(last=False)[1]]
            if len(idle) < IDLE_KEPT:
                idle.append((conn, identity))
                kept = True
    for old in evicted if kept else [*evicted, conn]:
        old.close()


def close_idle() -> None:
    """Close every idle connection (tests that remove a database folder, a process about to exit)."""
    with _idle_lock:
        held = [conn for idle in _idle.values() for conn, _ in idle]
        _idle.clear()
    for conn in held:
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

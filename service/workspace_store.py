"""A browser's work kept across reloads and restarts: models, settings and runs, per workspace.

An index in SQLite (WAL, so several server processes can share one data dir) and one safetensors file per
model beside it. A model's file is written (temp name, fsync, rename) before its row is committed, so a kill
at any moment leaves either the old state or the new one: a file without a row is garbage-collected later,
and a row whose file has gone is dropped when read. Files are named by random ids, never by user input.
Workspaces are found by the SHA-256 of the cookie token; the token itself is never stored or logged.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save as st_save

from service import workspace_db as db
from service.atomic_files import TEMP_PREFIX, fsync_dir, write_atomic

PROJECT_DIR = Path(__file__).resolve().parents[1]
DATA_DIR_ENV = "STUDIO_DATA_DIR"
DAYS_ENV = "STUDIO_WORKSPACE_DAYS"
DEFAULT_DAYS = 7.0
STORE_DIR = "workspaces"  # under the data dir: store.sqlite3 and models/
MODEL_SUFFIX = ".safetensors"
TOUCH_EVERY_S = 300.0  # opening a workspace rewrites its last_used at most this often (a read otherwise)
GC_GRACE_S = 600.0  # a file without a row is left this long: its writer may not have committed yet
ACTIVE_RUN_STATUSES = ("queued", "running", "paused")
# A run in one of these has no model yet: whoever settles it first (its server, or the worker when the server is
# gone) keeps the model, in the same transaction that moves the run out of them. So it is kept exactly once.
CLAIMABLE_RUN_STATUSES = (*ACTIVE_RUN_STATUSES, "interrupted", "interrupted-told")
_ID = re.compile(r"[0-9a-f]{32}")
_META_KEY = re.compile(r"[a-z_][a-z0-9_]{0,63}")  # keys spliced into a JSON path: plain names only


class StoreError(Exception):
    """A store operation was refused; the message is a sentence a page can show as it is."""


class QuotaError(StoreError):
    """The workspace is full (model count or bytes)."""


class ModelNotFound(StoreError):
    """The model is not (or no longer) in this workspace."""


class WorkspaceNotFound(StoreError):
    """The workspace was forgotten or swept while a tab still held its id."""


class RunSettled(StoreError):
    """The run was settled already (its model kept by another process, or it failed or was discarded)."""


@dataclass(frozen=True)
class Limits:
    """What one workspace may hold."""

    max_models: int = 20  # as many as a session kept before workspaces existed
    max_bytes: int = 200 * 2**20  # all its model files together; a k = 784 model is about 5 MB
    max_name_chars: int = 200
    max_meta_bytes: int = 256 * 2**10  # a model's string metadata, as JSON (kept in its row too)
    max_setting_bytes: int = 2**20  # one setting's JSON (a drawing is 784 floats, about 15 KB)
    runs_kept: int = 50  # older runs of a workspace are dropped when a new one is recorded


@dataclass(frozen=True)
class ModelRecord:
    """A model as listed: everything but its tensors (listing reads no file)."""

    id: str
    name: str
    created: float  # seconds since the epoch
    bytes: int
    meta: dict[str, str]


@dataclass(frozen=True)
class StoredModel:
    """A model as loaded: its record, its tensors and the string metadata saved in its file."""

    record: ModelRecord
    tensors: dict[str, torch.Tensor]
    meta: dict[str, str]


@dataclass(frozen=True)
class RunRecord:
    """A run as the workspace last heard of it, so a reattaching tab can find it."""

    run_id: str
    status: str
    detail: Any  # JSON value
    created: float
    updated: float


def default_data_dir() -> Path:
    """STUDIO_DATA_DIR, or data/ in the project (git-ignored)."""
    value = os.environ.get(DATA_DIR_ENV, "").strip()
    return Path(value).expanduser() if value else PROJECT_DIR / "data"


def retention_days() -> float:
    """STUDIO_WORKSPACE_DAYS (default 7): workspaces unused for longer are swept."""
    value = os.environ.get(DAYS_ENV, "").strip()
    if not value:
        return DEFAULT_DAYS
    try:
        days = float(value)
    except ValueError:
        days = -1.0
    if not days > 0 or days == float("inf"):
        raise ValueError(f"{DAYS_ENV} must be a positive number of days, for example 7; it is {value!r}.")
    return days


def token_hash(token: str) -> str:
    """The only form of a token the store keeps: a 256-bit random token needs no salt or slow hash."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class WorkspaceStore:
    """The store under one data dir; safe to share between threads (a connection per call) and processes."""

    def __init__(
        self, data_dir: Path | str | None = None, limits: Limits = Limits(), clock: Callable[[], float] = time.time
    ) -> None:
        self.root = Path(data_dir if data_dir is not None else default_data_dir()) / STORE_DIR
        self.models_dir = self.root / "models"
        self.db_path = self.root / "store.sqlite3"
        self.limits = limits
        self.clock = clock
        self.models_dir.mkdir(parents=True, exist_ok=True)
        db.initialise(self.db_path)

    @classmethod
    def existing(cls, data_dir: Path | str) -> WorkspaceStore | None:
        """The store a server made under `data_dir`, or None: a worker that does not share it must not start one."""
        if not (Path(data_dir) / STORE_DIR / "store.sqlite3").is_file():
            return None
        return cls(data_dir)

    # workspaces

    def open_workspace(self, token: str) -> str:
        """The id of the token's workspace, created when unknown (a made-up token just starts an empty one)."""
        if not isinstance(token, str) or len(token) < 16:
            raise ValueError("A workspace token must be a random string of at least 16 characters.")
        key, now = token_hash(token), self.clock()
        with db.opened(self.db_path) as conn:
            row = conn.execute("SELECT id, last_used FROM workspaces WHERE token_hash = ?", (key,)).fetchone()
            if row is not None and row[1] >= now - TOUCH_EVERY_S:
                return row[0]
            with db.write(conn):
                row = conn.execute("SELECT id FROM workspaces WHERE token_hash = ?", (key,)).fetchone()
                if row is not None:
                    conn.execute("UPDATE workspaces SET last_used = ? WHERE id = ?", (now, row[0]))
                    return row[0]
                ws = secrets.token_hex(16)
                conn.execute("INSERT INTO workspaces VALUES (?, ?, ?, ?)", (ws, key, now, now))
                return ws

    def workspace_exists(self, ws: str) -> bool:
        """Whether the id still names a workspace (a tab may hold one that was forgotten elsewhere)."""
        with db.opened(self.db_path) as conn:
            return conn.execute("SELECT 1 FROM workspaces WHERE id = ?", (ws,)).fetchone() is not None

    def forget_workspace(self, ws: str) -> None:
        """Delete the workspace with its models, files, settings and runs."""
        with db.opened(self.db_path) as conn, db.write(conn):
            ids = [r[0] for r in conn.execute("SELECT id FROM models WHERE workspace = ?", (ws,))]
            conn.execute("DELETE FROM workspaces WHERE id = ?", (ws,))
        self._unlink_models(ids)

    def sweep_expired(self, days: float | None = None) -> int:
        """Delete the workspaces unused for `days` (default STUDIO_WORKSPACE_DAYS), then stray files; their count."""
        cutoff = self.clock() - (retention_days() if days is None else days) * 86400.0
        with db.opened(self.db_path) as conn, db.write(conn):
            gone = [r[0] for r in conn.execute("SELECT id FROM workspaces WHERE last_used < ?", (cutoff,))]
            ids = [
                r[0]
                for r in conn.execute(
                    "SELECT models.id FROM models JOIN workspaces ON models.workspace = workspaces.id "
                    "WHERE workspaces.last_used < ?",
                    (cutoff,),
                )
            ]
            conn.execute("DELETE FROM workspaces WHERE last_used < ?", (cutoff,))
        self._unlink_models(ids)
        self.collect_garbage()
        return len(gone)

    def collect_garbage(self, grace_s: float = GC_GRACE_S) -> int:
        """Remove model files with no row and temp files a killed writer left, once older than `grace_s`."""
        with db.opened(self.db_path) as conn:
            known = {r[0] for r in conn.execute("SELECT id FROM models")}
        cutoff, removed = time.time() - grace_s, 0
        for path in self.models_dir.iterdir():
            stem = path.name.removesuffix(MODEL_SUFFIX)
            stray = path.name.startswith(TEMP_PREFIX) or (
                path.name.endswith(MODEL_SUFFIX) and _ID.fullmatch(stem) is not None and stem not in known
            )
            try:
                if stray and path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        if removed:
            fsync_dir(self.models_dir)
        return removed

    # models

    def put_model(
        self,
        ws: str,
        name: str,
        tensors: Mapping[str, torch.Tensor],
        meta: Mapping[str, str],
        run_id: str | None = None,
        run_detail: Mapping[str, Any] | None = None,
    ) -> str:
        """Save a model (weights, curves, replay: any named tensors) with string metadata; its new id.

        With `run_id`, the model is a run's result: the same transaction settles the run as finished (its
        detail gains the model's name and id), and RunSettled is raised if someone settled it first.
        """
        name = self._check_name(name)
        meta = dict(meta)
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items()):
            raise TypeError("A model's metadata must map strings to strings.")
        meta_json = json.dumps(meta, ensure_ascii=False)
        if len(meta_json.encode("utf-8")) > self.limits.max_meta_bytes:
            raise StoreError(
                f"This model's metadata is over {self.limits.max_meta_bytes // 1024} KB; it was not saved."
            )
        data = st_save({k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}, metadata=meta)
        self._check_quota(ws, len(data))  # cheap early refusal; checked again under the write lock
        model_id = secrets.token_hex(16)
        path = self._model_path(model_id)
        write_atomic(path, data)
        try:
            with db.opened(self.db_path) as conn, db.write(conn):
                self._require_workspace(conn, ws)
                self._check_quota(ws, len(data), conn)
                now = self.clock()
                if run_id is not None:
                    detail = {**(run_detail or {}), "model": name, "model_id": model_id}
                    if not self._settle(conn, ws, run_id, "finished", detail, now):
                        raise RunSettled("This run's model was kept already.")
                conn.execute(
                    "INSERT INTO models VALUES (?, ?, ?, ?, ?, ?)", (model_id, ws, name, now, len(data), meta_json)
                )
                conn.execute("UPDATE workspaces SET last_used = ? WHERE id = ?", (now, ws))
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return model_id

    def list_models(self, ws: str) -> list[ModelRecord]:
        """The workspace's models, oldest first, from the index alone."""
        with db.opened(self.db_path) as conn:
            rows = conn.execute(
                "SELECT id, name, created, bytes, meta FROM models WHERE workspace = ? ORDER BY created, rowid", (ws,)
            ).fetchall()
        return [ModelRecord(r[0], r[1], r[2], r[3], json.loads(r[4])) for r in rows]

    def load_model(self, ws: str, model_id: str) -> StoredModel:
        """A model with its tensors; a row whose file has gone is dropped and reported as not found."""
        return self._load(ws, self._record(ws, model_id))

    def load_models(self, ws: str) -> list[StoredModel]:
        """Every model of the workspace, oldest first, skipping (and cleaning) any whose file has gone."""
        loaded = []
        for record in self.list_models(ws):
            try:
                loaded.append(self._load(ws, record))
            except ModelNotFound:
                continue
        return loaded

    def rename_model(self, ws: str, model_id: str, name: str) -> None:
        """Change a model's label (the row's name is the one that counts, not any name inside its file)."""
        name = self._check_name(name)
        with db.opened(self.db_path) as conn, db.write(conn):
            changed = conn.execute(
                "UPDATE models SET name = ? WHERE id = ? AND workspace = ?", (name, model_id, ws)
            ).rowcount
        if not changed:
            raise ModelNotFound("That model is no longer in this workspace.")

    def delete_model(self, ws: str, model_id: str) -> bool:
        """Delete a model: its row first (readers stop seeing it), then its file; whether it was there."""
        with db.opened(self.db_path) as conn, db.write(conn):
            deleted = conn.execute("DELETE FROM models WHERE id = ? AND workspace = ?", (model_id, ws)).rowcount
        if deleted:
            self._unlink_models([model_id])
        return bool(deleted)

    def all_models_meta(self, keys: Sequence[str]) -> list[tuple[str, dict[str, str]]]:
        """(workspace id, the chosen metadata) of every model in every workspace: the class board's one read.

        One scan of the index, never a file; each value is picked out by SQLite (a missing key reads as ""), so
        a big metadata field is never sent back. The ids are for telling a browser's own models from the rest.
        """
        for key in keys:
            if _META_KEY.fullmatch(key) is None:
                raise ValueError(f"{key!r} is not a metadata key the board may read.")
        columns = "".join(f", COALESCE(json_extract(meta, '$.{key}'), '')" for key in keys)
        with db.opened(self.db_path) as conn:
            rows = conn.execute(f"SELECT workspace{columns} FROM models ORDER BY created, rowid").fetchall()
        return [(r[0], {key: str(value) for key, value in zip(keys, r[1:], strict=True)}) for r in rows]

    def usage(self, ws: str) -> tuple[int, int]:
        """(models, bytes) the workspace holds, for a page to show against `limits`."""
        with db.opened(self.db_path) as conn:
            return self._usage(conn, ws)

    # settings

    def set_setting(self, ws: str, key: str, value: Any) -> None:
        """Keep a JSON-able value (active model, drawing, page settings, sweep results) under `key`."""
        text = json.dumps(value, allow_nan=False, separators=(",", ":"))
        if len(text.encode("utf-8")) > self.limits.max_setting_bytes:
            raise StoreError(
                f"The setting {key!r} is over {self.limits.max_setting_bytes // 1024} KB; it was not kept."
            )
        with db.opened(self.db_path) as conn, db.write(conn):
            self._require_workspace(conn, ws)
            now = self.clock()
            conn.execute(
                "INSERT INTO settings VALUES (?, ?, ?, ?) "
                "ON CONFLICT (workspace, key) DO UPDATE SET value = excluded.value, updated = excluded.updated",
                (ws, key, text, now),
            )
            conn.execute("UPDATE workspaces SET last_used = ? WHERE id = ?", (now, ws))

    def get_setting(self, ws: str, key: str, default: Any = None) -> Any:
        """The value kept under `key`, or `default`."""
        with db.opened(self.db_path) as conn:
            row = conn.execute("SELECT value FROM settings WHERE workspace = ? AND key = ?", (ws, key)).fetchone()
        return default if row is None else json.loads(row[0])

    def get_settings(self, ws: str) -> dict[str, Any]:
        """Every setting of the workspace in one read, for a restore."""
        with db.opened(self.db_path) as conn:
            rows = conn.execute("SELECT key, value FROM settings WHERE workspace = ?", (ws,)).fetchall()
        return {k: json.loads(v) for k, v in rows}

    def delete_setting(self, ws: str, key: str) -> None:
        """Forget one setting."""
        with db.opened(self.db_path) as conn, db.write(conn):
            conn.execute("DELETE FROM settings WHERE workspace = ? AND key = ?", (ws, key))

    # runs

    def record_run(self, ws: str, run_id: str, status: str, detail: Any = None) -> None:
        """Insert or update a run; an engine re-records its active runs now and then (see interrupt_stale_runs)."""
        if not run_id or len(run_id) > 128 or not status or len(status) > 32:
            raise ValueError("A run needs an id of 1-128 characters and a status of 1-32.")
        text = json.dumps(detail, allow_nan=False, separators=(",", ":"))
        with db.opened(self.db_path) as conn, db.write(conn):
            self._require_workspace(conn, ws)
            now = self.clock()
            conn.execute(
                "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (workspace, run_id) DO UPDATE SET "
                "status = excluded.status, detail = excluded.detail, updated = excluded.updated",
                (ws, run_id, status, text, now, now),
            )
            conn.execute(
                "DELETE FROM runs WHERE workspace = ? AND rowid NOT IN "
                "(SELECT rowid FROM runs WHERE workspace = ? ORDER BY created DESC, rowid DESC LIMIT ?)",
                (ws, ws, self.limits.runs_kept),
            )
            conn.execute("UPDATE workspaces SET last_used = ? WHERE id = ?", (now, ws))

    def list_runs(self, ws: str, statuses: Iterable[str] | None = None) -> list[RunRecord]:
        """The workspace's runs, newest first; only those in `statuses` when given."""
        query, args = "SELECT run_id, status, detail, created, updated FROM runs WHERE workspace = ?", [ws]
        if statuses is not None:
            wanted = list(statuses)
            query += f" AND status IN ({','.join('?' * len(wanted))})"
            args += wanted
        with db.opened(self.db_path) as conn:
            rows = conn.execute(query + " ORDER BY created DESC, rowid DESC", args).fetchall()
        return [RunRecord(r[0], r[1], json.loads(r[2]), r[3], r[4]) for r in rows]

    def interrupt_stale_runs(
        self, stale_after_s: float, active: Iterable[str] = ACTIVE_RUN_STATUSES, status: str = "interrupted"
    ) -> int:
        """Mark active runs not re-recorded for `stale_after_s` (their server died) as interrupted; their count."""
        wanted, now = list(active), self.clock()
        with db.opened(self.db_path) as conn, db.write(conn):
            return conn.execute(
                f"UPDATE runs SET status = ?, updated = ? WHERE status IN ({','.join('?' * len(wanted))}) "
                "AND updated < ?",
                (status, now, *wanted, now - stale_after_s),
            ).rowcount

    def settle_run(self, ws: str, run_id: str, status: str, detail: Any = None) -> bool:
        """End a run with no model (failed, discarded, not kept) unless it was settled already; whether it was now."""
        with db.opened(self.db_path) as conn, db.write(conn):
            return self._settle(conn, ws, run_id, status, detail, self.clock())

    def beat_run(self, ws: str, run_id: str) -> bool:
        """Say an active run is alive (see interrupt_stale_runs); False when it is no longer active (or gone)."""
        wanted = ACTIVE_RUN_STATUSES
        with db.opened(self.db_path) as conn, db.write(conn):
            return bool(
                conn.execute(
                    f"UPDATE runs SET updated = ? WHERE workspace = ? AND run_id = ? "
                    f"AND status IN ({','.join('?' * len(wanted))})",
                    (self.clock(), ws, run_id, *wanted),
                ).rowcount
            )

    def get_run(self, ws: str, run_id: str) -> RunRecord | None:
        """One run as last recorded, or None."""
        with db.opened(self.db_path) as conn:
            row = conn.execute(
                "SELECT run_id, status, detail, created, updated FROM runs WHERE workspace = ? AND run_id = ?",
                (ws, run_id),
            ).fetchone()
        return None if row is None else RunRecord(row[0], row[1], json.loads(row[2]), row[3], row[4])

    # chores shared by several server processes

    def take_lease(self, name: str, holder: str, seconds: float) -> bool:
        """Whether `holder` may do the chore `name` now: True for one process per `seconds` (its own renewals too)."""
        now = self.clock()
        with db.opened(self.db_path) as conn, db.write(conn):
            return bool(
                conn.execute(
                    "INSERT INTO leases VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
                    "holder = excluded.holder, until = excluded.until WHERE leases.until <= ? OR leases.holder = ?",
                    (name, holder, now + seconds, now, holder),
                ).rowcount
            )

    # helpers

    @staticmethod
    def _settle(conn: sqlite3.Connection, ws: str, run_id: str, status: str, detail: Any, now: float) -> bool:
        wanted = CLAIMABLE_RUN_STATUSES
        text = json.dumps(detail, allow_nan=False, separators=(",", ":"))
        return bool(
            conn.execute(
                f"UPDATE runs SET status = ?, detail = ?, updated = ? WHERE workspace = ? AND run_id = ? "
                f"AND status IN ({','.join('?' * len(wanted))})",
                (status, text, now, ws, run_id, *wanted),
            ).rowcount
        )

    def _model_path(self, model_id: str) -> Path:
        """The only way a model's path is made: from a random hex id, checked as such."""
        if not isinstance(model_id, str) or _ID.fullmatch(model_id) is None:
            raise ModelNotFound("That model is not in this workspace.")
        return self.models_dir / f"{model_id}{MODEL_SUFFIX}"

    def _record(self, ws: str, model_id: str) -> ModelRecord:
        self._model_path(model_id)  # refuses anything but an id before touching the database
        with db.opened(self.db_path) as conn:
            row = conn.execute(
                "SELECT id, name, created, bytes, meta FROM models WHERE id = ? AND workspace = ?", (model_id, ws)
            ).fetchone()
        if row is None:
            raise ModelNotFound("That model is no longer in this workspace.")
        return ModelRecord(row[0], row[1], row[2], row[3], json.loads(row[4]))

    def _load(self, ws: str, record: ModelRecord) -> StoredModel:
        try:
            with safe_open(str(self._model_path(record.id)), framework="pt") as f:
                tensors = {key: f.get_tensor(key) for key in f.keys()}
                meta = dict(f.metadata() or {})
        except FileNotFoundError:
            self._drop_row(ws, record.id)
            raise ModelNotFound("This model's file has gone from the server's data folder; it was removed.") from None
        except SafetensorError as exc:
            raise StoreError("This model's file on the server is damaged and could not be read.") from exc
        return StoredModel(record, tensors, meta)

    def _drop_row(self, ws: str, model_id: str) -> None:
        with db.opened(self.db_path) as conn, db.write(conn):
            conn.execute("DELETE FROM models WHERE id = ? AND workspace = ?", (model_id, ws))

    def _unlink_models(self, ids: Iterable[str]) -> None:
        for model_id in ids:
            self._model_path(model_id).unlink(missing_ok=True)
        fsync_dir(self.models_dir)

    def _check_name(self, name: str) -> str:
        if not isinstance(name, str) or not name.strip():
            raise StoreError("A model needs a name.")
        if len(name) > self.limits.max_name_chars:
            raise StoreError(f"A model name can be at most {self.limits.max_name_chars} characters.")
        return name

    @staticmethod
    def _require_workspace(conn: sqlite3.Connection, ws: str) -> None:
        if conn.execute("SELECT 1 FROM workspaces WHERE id = ?", (ws,)).fetchone() is None:
            raise WorkspaceNotFound(
                "This browser's workspace was deleted (forgotten or unused for too long); reload the page to start a new one."
            )

    @staticmethod
    def _usage(conn: sqlite3.Connection, ws: str) -> tuple[int, int]:
        count, total = conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(bytes), 0) FROM models WHERE workspace = ?", (ws,)
        ).fetchone()
        return count, total

    def _check_quota(self, ws: str, new_bytes: int, conn: sqlite3.Connection | None = None) -> None:
        if conn is None:
            with db.opened(self.db_path) as own:
                count, total = self._usage(own, ws)
        else:
            count, total = self._usage(conn, ws)
        limits = self.limits
        if count >= limits.max_models:
            raise QuotaError(
                f"This workspace already holds {limits.max_models} models, the most it keeps: "
                "delete one (download it first if you want to keep it) to save another."
            )
        if total + new_bytes > limits.max_bytes:
            raise QuotaError(
                f"This model ({_mb(new_bytes)}) would take the workspace past its {_mb(limits.max_bytes)} limit "
                f"({_mb(total)} used): delete a model or two (download them first if you want to keep them)."
            )


def _mb(n: int) -> str:
    return f"{n / 2**20:.1f} MB"

"""The workspace store in one process: round trip, quota, settings, runs, forget, retention, stray files."""

from __future__ import annotations

import os
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import torch

from service.workspace_cookie import new_token
from service.workspace_db import connect
from service.workspace_store import (
    MODEL_SUFFIX,
    Limits,
    ModelNotFound,
    QuotaError,
    RunSettled,
    StoreError,
    WorkspaceNotFound,
    WorkspaceStore,
    default_data_dir,
    retention_days,
    token_hash,
)


class Clock:
    """A settable clock, so retention can be tested without waiting days."""

    def __init__(self) -> None:
        self.now = 1_000_000_000.0

    def __call__(self) -> float:
        return self.now


def tensors(k: int = 4, seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {
        "encoder.weight": torch.randn(k, 784, generator=g),
        "decoder.bias": torch.randn(784, generator=g),
        "replay.codes": torch.randn(3, 50, 2, generator=g).to(torch.float16),
        "curves.epoch": torch.arange(5, dtype=torch.int64),
    }


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path, clock) -> WorkspaceStore:
    return WorkspaceStore(tmp_path, clock=clock)


def test_round_trip_keeps_tensors_meta_and_name(store):
    ws = store.open_workspace(new_token())
    saved = tensors()
    model_id = store.put_model(ws, "my <b>model</b> ../../etc", saved, {"latent_dim": "4", "curves": "[0.1, 0.05]"})
    [record] = store.list_models(ws)
    assert record.id == model_id and record.name == "my <b>model</b> ../../etc"
    assert (
        record.meta["latent_dim"] == "4"
        and record.bytes == (store.models_dir / f"{model_id}{MODEL_SUFFIX}").stat().st_size
    )
    loaded = store.load_model(ws, model_id)
    assert loaded.meta == {"latent_dim": "4", "curves": "[0.1, 0.05]"}
    assert loaded.tensors.keys() == saved.keys()
    for key, value in saved.items():
        assert loaded.tensors[key].dtype == value.dtype
        assert torch.equal(loaded.tensors[key], value)
    # the file is named by the random id alone: the user's label is nowhere in the data dir
    assert [p.name for p in store.models_dir.iterdir()] == [f"{model_id}{MODEL_SUFFIX}"]


def test_same_token_same_workspace_across_store_objects(tmp_path):
    token = new_token()
    first = WorkspaceStore(tmp_path)
    ws = first.open_workspace(token)
    first.put_model(ws, "a", tensors(), {})
    again = WorkspaceStore(tmp_path)  # a server restart
    assert again.open_workspace(token) == ws
    assert [r.name for r in again.list_models(ws)] == ["a"]


def test_unknown_token_starts_an_empty_workspace_and_others_are_invisible(store):
    mine = store.open_workspace(new_token())
    store.put_model(mine, "mine", tensors(), {})
    stranger = store.open_workspace(new_token())
    assert stranger != mine
    assert store.list_models(stranger) == []
    model_id = store.list_models(mine)[0].id
    with pytest.raises(ModelNotFound):
        store.load_model(stranger, model_id)
    assert not store.delete_model(stranger, model_id)
    with pytest.raises(ModelNotFound):
        store.rename_model(stranger, model_id, "taken")
    assert store.list_models(mine)[0].name == "mine"


def test_token_is_never_stored(store):
    token = new_token()
    ws = store.open_workspace(token)
    store.set_setting(ws, "k", 1)
    raw = b"".join(p.read_bytes() for p in store.root.iterdir() if p.is_file())
    assert token.encode() not in raw
    assert token_hash(token).encode() in raw  # what is kept instead


def test_short_token_is_refused(store):
    with pytest.raises(ValueError):
        store.open_workspace("abc")


def test_ids_that_are_not_ours_never_reach_a_path(store):
    ws = store.open_workspace(new_token())
    for bad in ("../store.sqlite3", "/etc/passwd", "A" * 32, "", "0" * 31):
        with pytest.raises(ModelNotFound):
            store.load_model(ws, bad)


def test_rename_and_delete(store):
    ws = store.open_workspace(new_token())
    a = store.put_model(ws, "a", tensors(), {})
    b = store.put_model(ws, "b", tensors(seed=1), {})
    store.rename_model(ws, a, "renamed")
    assert [r.name for r in store.list_models(ws)] == ["renamed", "b"]
    assert store.delete_model(ws, a)
    assert not store.delete_model(ws, a)
    assert [r.id for r in store.list_models(ws)] == [b]
    assert not (store.models_dir / f"{a}{MODEL_SUFFIX}").exists()
    with pytest.raises(StoreError, match="name"):
        store.rename_model(ws, b, "x" * 201)


def test_quota_by_count(tmp_path):
    store = WorkspaceStore(tmp_path, Limits(max_models=3))
    ws = store.open_workspace(new_token())
    for i in range(3):
        store.put_model(ws, f"m{i}", tensors(), {})
    with pytest.raises(QuotaError, match="already holds 3 models.*delete one"):
        store.put_model(ws, "one too many", tensors(), {})
    assert len(store.list_models(ws)) == 3
    assert len(list(store.models_dir.iterdir())) == 3  # the refused model left no file
    other = store.open_workspace(new_token())
    store.put_model(other, "elsewhere", tensors(), {})  # the quota is per workspace


def test_quota_by_bytes(tmp_path):
    probe = WorkspaceStore(tmp_path / "probe")
    ws = probe.open_workspace(new_token())
    probe.put_model(ws, "probe", tensors(), {})
    size = probe.usage(ws)[1]
    store = WorkspaceStore(tmp_path / "real", Limits(max_bytes=int(size * 2.5)))
    ws = store.open_workspace(new_token())
    store.put_model(ws, "a", tensors(), {})
    store.put_model(ws, "b", tensors(), {})
    with pytest.raises(QuotaError, match="limit.*delete a model"):
        store.put_model(ws, "c", tensors(), {})
    assert store.usage(ws) == (2, 2 * size)


def test_settings_round_trip_json(store):
    ws = store.open_workspace(new_token())
    drawing = [i / 784 for i in range(784)]
    store.set_setting(ws, "drawing", drawing)
    store.set_setting(ws, "train", {"k": 8, "lr": 0.01, "activation": None})
    store.set_setting(ws, "active_model", "abc")
    store.set_setting(ws, "active_model", "def")
    assert store.get_setting(ws, "drawing") == drawing
    assert store.get_setting(ws, "missing", default=[]) == []
    assert store.get_settings(ws) == {
        "drawing": drawing,
        "train": {"k": 8, "lr": 0.01, "activation": None},
        "active_model": "def",
    }
    store.delete_setting(ws, "drawing")
    assert "drawing" not in store.get_settings(ws)
    with pytest.raises(ValueError):
        store.set_setting(ws, "bad", float("nan"))
    with pytest.raises(StoreError, match="over"):
        WorkspaceStore(store.root.parent, Limits(max_setting_bytes=100)).set_setting(ws, "big", "x" * 200)


def test_runs_are_found_and_stale_ones_interrupted(store, clock):
    ws = store.open_workspace(new_token())
    store.record_run(ws, "r1", "finished", {"model": "m"})
    clock.now += 1
    store.record_run(ws, "r2", "running", {"epoch": 1})
    clock.now += 1
    store.record_run(ws, "r2", "running", {"epoch": 2})
    runs = store.list_runs(ws)
    assert [(r.run_id, r.status, r.detail) for r in runs] == [
        ("r2", "running", {"epoch": 2}),
        ("r1", "finished", {"model": "m"}),
    ]
    assert [r.run_id for r in store.list_runs(ws, statuses=["running"])] == ["r2"]
    clock.now += 30
    assert store.interrupt_stale_runs(stale_after_s=60) == 0  # re-recorded recently: still alive
    clock.now += 60
    assert store.interrupt_stale_runs(stale_after_s=60) == 1
    assert {r.run_id: r.status for r in store.list_runs(ws)} == {"r1": "finished", "r2": "interrupted"}


def test_old_runs_are_dropped(tmp_path, clock):
    store = WorkspaceStore(tmp_path, Limits(runs_kept=3), clock=clock)
    ws = store.open_workspace(new_token())
    for i in range(5):
        clock.now += 1
        store.record_run(ws, f"r{i}", "finished")
    assert [r.run_id for r in store.list_runs(ws)] == ["r4", "r3", "r2"]


def test_forget_removes_everything(store):
    token = new_token()
    ws = store.open_workspace(token)
    ids = [store.put_model(ws, f"m{i}", tensors(), {}) for i in range(3)]
    store.set_setting(ws, "drawing", [0.0] * 784)
    store.record_run(ws, "r", "finished")
    keep = store.open_workspace(new_token())
    kept = store.put_model(keep, "other", tensors(), {})
    store.forget_workspace(ws)
    assert not store.workspace_exists(ws)
    assert store.list_models(ws) == [] and store.get_settings(ws) == {} and store.list_runs(ws) == []
    assert sorted(p.name for p in store.models_dir.iterdir()) == [f"{kept}{MODEL_SUFFIX}"]
    assert all(not (store.models_dir / f"{i}{MODEL_SUFFIX}").exists() for i in ids)
    with pytest.raises(WorkspaceNotFound, match="reload the page"):
        store.put_model(ws, "late", tensors(), {})  # a tab that still holds the old id
    assert len(list(store.models_dir.iterdir())) == 1  # and its refused model left no file
    assert store.open_workspace(token) != ws  # the same cookie now starts afresh


def test_retention_sweep(store, clock):
    old = store.open_workspace(new_token())
    old_model = store.put_model(old, "old", tensors(), {})
    recent_token = new_token()
    recent = store.open_workspace(recent_token)
    store.put_model(recent, "recent", tensors(), {})
    clock.now += 6 * 86400
    assert store.open_workspace(recent_token) == recent  # a visit keeps it alive
    clock.now += 2 * 86400  # old: unused 8 days, recent: 2
    assert store.sweep_expired(days=7) == 1
    assert not store.workspace_exists(old) and store.workspace_exists(recent)
    assert not (store.models_dir / f"{old_model}{MODEL_SUFFIX}").exists()
    assert [r.name for r in store.list_models(recent)] == ["recent"]


def test_writes_keep_a_workspace_alive(store, clock):
    ws = store.open_workspace(new_token())
    clock.now += 6 * 86400
    store.set_setting(ws, "drawing", [])
    clock.now += 6 * 86400
    assert store.sweep_expired(days=7) == 0


def test_retention_days_from_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("STUDIO_WORKSPACE_DAYS", raising=False)
    assert retention_days() == 7
    monkeypatch.setenv("STUDIO_WORKSPACE_DAYS", "0.5")
    assert retention_days() == 0.5
    for bad in ("0", "-1", "seven", "nan", "inf"):
        monkeypatch.setenv("STUDIO_WORKSPACE_DAYS", bad)
        with pytest.raises(ValueError, match="STUDIO_WORKSPACE_DAYS must be a positive number"):
            retention_days()
    monkeypatch.setenv("STUDIO_DATA_DIR", str(tmp_path / "elsewhere"))
    assert default_data_dir() == tmp_path / "elsewhere"
    assert WorkspaceStore().db_path == tmp_path / "elsewhere" / "workspaces" / "store.sqlite3"


def test_a_row_whose_file_has_gone_is_skipped_and_cleaned(store):
    ws = store.open_workspace(new_token())
    a = store.put_model(ws, "a", tensors(), {})
    b = store.put_model(ws, "b", tensors(seed=1), {})
    (store.models_dir / f"{a}{MODEL_SUFFIX}").unlink()
    assert [m.record.id for m in store.load_models(ws)] == [b]
    assert [r.id for r in store.list_models(ws)] == [b]
    with pytest.raises(ModelNotFound):
        store.load_model(ws, a)


def test_a_damaged_file_is_a_clear_error(store):
    ws = store.open_workspace(new_token())
    a = store.put_model(ws, "a", tensors(), {})
    (store.models_dir / f"{a}{MODEL_SUFFIX}").write_bytes(b"\xff" * 16)
    with pytest.raises(StoreError, match="damaged"):
        store.load_model(ws, a)


def test_garbage_collection_of_stray_files(store):
    ws = store.open_workspace(new_token())
    kept = store.put_model(ws, "kept", tensors(), {})
    orphan = store.models_dir / f"{'ab' * 16}{MODEL_SUFFIX}"  # a file whose writer died before its row
    orphan.write_bytes(b"x")
    temp = store.models_dir / ".tmp-0123456789abcdef"  # a writer killed mid-write
    temp.write_bytes(b"x")
    foreign = store.models_dir / "README.txt"  # not ours: left alone
    foreign.write_bytes(b"x")
    assert store.collect_garbage() == 0  # too young: their writers may still be at work
    past = time.time() - 3600
    for path in (orphan, temp, foreign):
        os.utime(path, (past, past))
    assert store.collect_garbage() == 2
    assert sorted(p.name for p in store.models_dir.iterdir()) == sorted([f"{kept}{MODEL_SUFFIX}", "README.txt"])


def test_the_database_is_in_wal_mode_with_a_busy_timeout(store):
    conn = connect(store.db_path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    finally:
        conn.close()
    plain = sqlite3.connect(store.db_path)  # another program (the sqlite3 shell, a backup) sees a normal file
    try:
        assert plain.execute("SELECT COUNT(*) FROM workspaces").fetchone()[0] == 0
    finally:
        plain.close()


def test_threads_sharing_one_store_object(store):
    """Streamlit runs each session's script in its own thread, all with the one cached store."""
    ws = store.open_workspace(new_token())

    def work(n: int) -> str:
        store.set_setting(ws, f"s{n}", n)
        store.record_run(ws, f"r{n}", "finished")
        return store.put_model(ws, f"m{n}", tensors(seed=n), {"n": str(n)})

    with ThreadPoolExecutor(max_workers=6) as pool:
        ids = list(pool.map(work, range(12)))
    assert sorted(r.id for r in store.list_models(ws)) == sorted(ids)
    assert store.get_settings(ws) == {f"s{n}": n for n in range(12)}
    assert {m.meta["n"] for m in store.load_models(ws)} == {str(n) for n in range(12)}


def test_a_runs_model_is_kept_once_whoever_claims_it_first(store):
    ws = store.open_workspace(new_token())
    store.record_run(ws, "r", "running", {"label": "k=4"})
    first = store.put_model(ws, "k=4", tensors(), {}, run_id="r", run_detail={"label": "k=4"})
    with pytest.raises(RunSettled):
        store.put_model(ws, "k=4 (2)", tensors(), {}, run_id="r", run_detail={"label": "k=4"})
    assert [r.id for r in store.list_models(ws)] == [first]  # the loser's file and row are gone
    assert len(list(store.models_dir.iterdir())) == 1
    run = store.get_run(ws, "r")
    assert run.status == "finished" and run.detail == {"label": "k=4", "model": "k=4", "model_id": first}
    assert not store.settle_run(ws, "r", "failed")  # settled already


def test_a_discarded_or_unknown_run_cannot_be_claimed(store):
    ws = store.open_workspace(new_token())
    store.record_run(ws, "r", "running")
    assert store.settle_run(ws, "r", "discarded")
    for run_id in ("r", "never-recorded"):
        with pytest.raises(RunSettled):
            store.put_model(ws, "m", tensors(), {}, run_id=run_id)
    assert store.list_models(ws) == []


def test_an_interrupted_run_can_still_deliver_its_model(store):
    ws = store.open_workspace(new_token())
    store.record_run(ws, "r", "interrupted")
    assert store.put_model(ws, "m", tensors(), {}, run_id="r")
    assert store.get_run(ws, "r").status == "finished"


def test_beats_refresh_only_active_runs_so_two_replicas_never_interrupt_each_other(store, clock):
    ws = store.open_workspace(new_token())
    store.record_run(ws, "replica-a-1", "running")
    store.record_run(ws, "replica-b-1", "running")
    store.record_run(ws, "done", "finished")
    for _ in range(5):  # both replicas beat their own runs every 20 s and sweep stale ones: nothing is lost
        clock.now += 20
        assert store.beat_run(ws, "replica-a-1") and store.beat_run(ws, "replica-b-1")
        assert store.interrupt_stale_runs(60) == 0
    assert not store.beat_run(ws, "done")  # a beat never revives a settled run
    assert store.get_run(ws, "done").status == "finished"
    clock.now += 61  # replica A died (and no worker adopted its run): only its run is interrupted
    assert store.beat_run(ws, "replica-b-1")
    assert store.interrupt_stale_runs(60) == 1
    assert {r.run_id: r.status for r in store.list_runs(ws)}["replica-a-1"] == "interrupted"


def test_a_lease_lets_one_replica_do_a_chore_per_period(store, clock):
    assert store.take_lease("sweep", "a", 3600)
    assert not store.take_lease("sweep", "b", 3600)
    assert store.take_lease("sweep", "a", 3600)  # its holder may renew
    clock.now += 3601
    assert store.take_lease("sweep", "b", 3600)
    assert not store.take_lease("sweep", "a", 3600)


def test_a_worker_never_starts_a_store_where_none_was_made(tmp_path):
    assert WorkspaceStore.existing(tmp_path / "elsewhere") is None
    assert not (tmp_path / "elsewhere").exists()
    WorkspaceStore(tmp_path / "shared")
    assert WorkspaceStore.existing(tmp_path / "shared") is not None

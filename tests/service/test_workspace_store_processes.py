"""The store shared between processes: a writer killed mid-write, and two writers at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import torch

from service.workspace_cookie import new_token
from service.workspace_store import MODEL_SUFFIX, WorkspaceStore

ROOT = Path(__file__).resolve().parents[2]


def writer(data_dir: Path, token: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        # Options first, then "--": a workspace token may begin with "-", which argparse would take for an option.
        [sys.executable, "-m", "tests.service.store_writer", *args, "--", str(data_dir), token],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )


def assert_every_listed_model_loads(store: WorkspaceStore, ws: str) -> list[str]:
    names = []
    for record in store.list_models(ws):
        model = store.load_model(ws, record.id)  # raises if a listed model is missing or half-written
        assert model.tensors["encoder.weight"].shape[1] == 784
        assert model.tensors["curves.train"][0].item() == float(model.meta["i"])
        names.append(record.name)
    return names


def test_writers_killed_at_any_moment_leave_a_readable_store(tmp_path):
    token = new_token()
    # k = 784: about 5 MB a model, so some kills land mid-write (a temp file), some between the file's rename
    # and its row's commit (an orphan file), some between commits; four writers share one workspace.
    procs = [writer(tmp_path, token, "--k", "784", "--tag", f"t{n}") for n in range(4)]
    committed: set[str] = set()
    for proc in procs:
        first = proc.stdout.readline().strip()  # one model committed: the writer is in its loop
        assert first, proc.stderr.read()
        committed.add(first)
    for proc in procs:
        time.sleep(0.07)
        proc.send_signal(signal.SIGKILL)
    for proc in procs:
        out, _ = proc.communicate()
        assert proc.returncode == -signal.SIGKILL
        committed.update(out.split())
    store = WorkspaceStore(tmp_path)  # opens after the crashes
    ws = store.open_workspace(token)
    listed = {r.id for r in store.list_models(ws)}
    assert committed <= listed  # every model a writer saw committed is there
    assert len(assert_every_listed_model_loads(store, ws)) == len(listed)
    store.collect_garbage(grace_s=0)  # whatever the kills left half-done goes
    files = {p.name for p in store.models_dir.iterdir()}
    assert files == {f"{i}{MODEL_SUFFIX}" for i in listed}


def test_two_processes_writing_at_once_lose_nothing(tmp_path):
    shared, own = new_token(), new_token()
    WorkspaceStore(tmp_path)  # the schema exists before both start, as with a server already running
    barrier = tmp_path / "barrier"  # all three begin their loops at the same moment
    barrier.mkdir()
    sync = ("--barrier", str(barrier), "--parties", "3")
    procs = [
        writer(tmp_path, shared, "--models", "25", "--tag", "a", *sync),
        writer(tmp_path, shared, "--models", "25", "--tag", "b", *sync),
        writer(tmp_path, own, "--models", "25", "--tag", "c", *sync),
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err  # a "database is locked" would surface here
        assert "locked" not in err
        assert len(out.split()) == 25
    store = WorkspaceStore(tmp_path)
    ws = store.open_workspace(shared)
    names = assert_every_listed_model_loads(store, ws)
    assert sorted(names) == sorted([f"a-{i}" for i in range(25)] + [f"b-{i}" for i in range(25)])
    assert store.get_settings(ws) == {"last-a": 24, "last-b": 24}
    assert len(store.list_runs(ws)) == store.limits.runs_kept  # 50 runs recorded, 50 kept
    assert len(store.list_models(store.open_workspace(own))) == 25


def test_the_schema_can_be_created_by_several_processes_at_once(tmp_path):
    db_path = tmp_path / "workspaces" / "store.sqlite3"
    db_path.parent.mkdir()
    code = "import sys, pathlib; from service.workspace_db import initialise; initialise(pathlib.Path(sys.argv[1]))"
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(db_path)], cwd=ROOT, stderr=subprocess.PIPE, text=True)
        for _ in range(6)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    store = WorkspaceStore(tmp_path)
    ws = store.open_workspace(new_token())
    store.put_model(ws, "after", {"w": torch.zeros(2)}, {})
    assert [r.name for r in store.list_models(ws)] == ["after"]

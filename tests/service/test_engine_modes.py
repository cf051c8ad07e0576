"""The engine's other set-ups: thread workers, an external `dask scheduler`, a scheduler that is down."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import types
from pathlib import Path

import dask
import pytest
import torch

from model.config import TrainConfig
from service import engine as eng
from service.job_spec import Delivery, InlineData, JobSpec
from service.remote_trainer import RemoteTrainer
from service.workspace_cookie import new_token
from service.workspace_store import WorkspaceStore
from tests.model.conftest import digit_tensors

REPO = Path(__file__).resolve().parents[2]
DASK = [sys.executable, "-m", "dask"]  # the `dask` command, wherever its script was installed
SPEC = JobSpec(
    TrainConfig(latent_dim=4, epochs=2, batch_size=50),
    InlineData(digit_tensors(300, seed=1), digit_tensors(100, seed=2)),
)


class _Asked(Exception):
    """Raised instead of starting a cluster."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_thread_workers_train_in_this_process():
    engine = eng.start(mode="threads", address="", n_workers=1)
    try:
        assert engine.mode == "threads" and engine.capacity() == 1
        remote = RemoteTrainer(SPEC, engine)
        final = remote.run()
        assert final.status == "done" and final.step == 12 and len(final.test_mse) == 2
    finally:
        engine.close()


def test_a_page_script_as_main_gets_thread_workers(monkeypatch):
    page = types.ModuleType("__main__")  # what Streamlit installs while it runs a page
    page.__file__ = str(REPO / "app.py")
    monkeypatch.setitem(sys.modules, "__main__", page)
    assert eng._main_is_a_page()
    asked = []

    def record(processes: bool, n_workers: int | None = None):
        asked.append(processes)
        raise _Asked

    monkeypatch.setattr(eng, "_local_cluster", record)
    with pytest.raises(_Asked):
        eng.start(mode="processes", address="")
    assert asked == [False]  # thread workers, not processes that would re-run the page
    monkeypatch.undo()
    assert not eng._main_is_a_page()  # pytest's own __main__ is a real module


def test_an_unreachable_scheduler_is_reported_fast_and_remembered(monkeypatch):
    address = f"tcp://127.0.0.1:{free_port()}"  # nobody listens there
    monkeypatch.setenv(eng.ADDRESS_ENV, address)
    monkeypatch.setattr(eng, "_engine", None)
    monkeypatch.setattr(eng, "_failed", None)
    started = time.monotonic()
    with pytest.raises(eng.EngineUnavailable, match="cannot be reached") as info:
        RemoteTrainer(SPEC)
    assert time.monotonic() - started < 5
    assert address in str(info.value) and "Traceback" not in str(info.value)
    started = time.monotonic()
    with pytest.raises(eng.EngineUnavailable):
        eng.get_engine()  # believed for a while: a second Start answers at once
    assert time.monotonic() - started < 0.5


@pytest.fixture(scope="module")
def external_cluster():
    """`dask scheduler` and two `dask worker` processes on localhost, always stopped at the end."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    # The repository for the trainer's modules, ahead of whatever path found dask itself (kept).
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    common = ["--no-dashboard"]
    procs = [
        subprocess.Popen([*DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port), *common], env=env, cwd=REPO)
    ]
    try:
        for _ in range(2):
            worker = [*DASK, "worker", address, "--nthreads", "1", "--host", "127.0.0.1", *common]
            procs.append(subprocess.Popen(worker, env=env, cwd=REPO))
        yield address
    finally:
        for proc in procs[::-1]:
            proc.terminate()
        for proc in procs[::-1]:
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _connect(address: str) -> eng.Engine:
    """An engine on the external scheduler once it listens and both workers have joined."""
    deadline = time.monotonic() + 60
    while True:  # the scheduler may take a moment to listen
        try:
            engine = eng.start(address=address)
            break
        except eng.EngineUnavailable:
            assert time.monotonic() < deadline, "the scheduler never answered"
            time.sleep(0.5)
    while len(engine.workers()) < 2:
        assert time.monotonic() < deadline, "the workers never joined"
        time.sleep(0.2)
    return engine


def test_jobs_run_on_an_external_scheduler(external_cluster, monkeypatch):
    monkeypatch.setenv(eng.ADDRESS_ENV, external_cluster)
    engine = _connect(external_cluster)
    try:
        assert engine.mode == "external" and engine.cluster is None
        assert engine.capacity() == 2
        torch.set_num_threads(1)
        final = RemoteTrainer(SPEC, engine).run()
        assert final.status == "done" and final.step == 12, final.message
    finally:
        engine.close()


def test_a_run_outlives_its_server_and_its_worker_keeps_the_model(external_cluster, tmp_path):
    """A replica's Dask client goes away mid-run: the scheduler releases the actor, its worker trains on and keeps it."""
    store = WorkspaceStore(tmp_path)
    ws = store.open_workspace(new_token())
    store.record_run(ws, "gone-1", "running", {"label": "k=4", "kind": "train"})
    delivery = Delivery(str(tmp_path), ws, "gone-1", "k=4", "train")
    config = TrainConfig(latent_dim=4, epochs=200, batch_size=1, max_seconds=6.0)  # ends by its time budget
    engine = _connect(external_cluster)
    remote = RemoteTrainer(JobSpec(config, SPEC.data, delivery=delivery), engine)
    threading.Thread(target=remote.run, daemon=True).start()
    deadline = time.monotonic() + 60
    while remote.snapshot.step == 0:
        assert time.monotonic() < deadline, "the run never started"
        time.sleep(0.1)
    engine.close()  # the replica stops: its client disconnects
    closed = time.monotonic()
    while not store.list_models(ws):
        assert time.monotonic() < deadline + 30, "the worker never kept the model"
        time.sleep(0.2)
    [record] = store.list_models(ws)
    run = store.get_run(ws, "gone-1")
    assert run.status == "finished" and run.detail["model_id"] == record.id
    assert store.get_setting(ws, "active_model") == {"id": record.id}
    # Kept at the run's end (its 6 s budget), not ORPHAN_SECONDS after the server's last call: the worker knew
    # at once, from Dask's releasing the actor, that its server was gone.
    assert time.monotonic() - closed < 20


def test_the_workers_are_never_missing_while_the_client_refreshes_its_view():
    """Dask's client refreshes a cached scheduler view without the workers every few seconds (here: every
    millisecond): asking for the workers must not read that cache, where a Start found "no workers right now"."""
    with dask.config.set({"distributed.client.scheduler-info-interval": "1ms"}):
        engine = eng.start(mode="threads", address="", n_workers=2)
    try:
        seen = [len(engine.workers()) for _ in range(300)]
        assert min(seen) == 2, f"{seen.count(0)} of {len(seen)} answers had no workers"
        assert engine.capacity() == 2
    finally:
        engine.close()

"""The worker's watch over a workspace run: it keeps the model when the server is gone, and only then."""

from __future__ import annotations

import threading
import time

import pytest
import torch

from model.config import TrainConfig
from service.job_spec import Delivery, InlineData, JobSpec
from service.keep_model import ACTIVE, keep_finished_run
from service.run_watch import RunWatch
from service.worker_side import build_trainer
from service.workspace_cookie import new_token
from service.workspace_store import WorkspaceStore
from tests.model.conftest import digit_tensors

DATA = InlineData(digit_tensors(300, seed=3), digit_tensors(100, seed=4))
SHORT = TrainConfig(latent_dim=4, epochs=2, batch_size=50)
ENDLESS = TrainConfig(latent_dim=4, epochs=200, batch_size=1)  # 60,000 steps: ends when something stops it


@pytest.fixture
def shared(tmp_path):
    """The servers' data dir, a workspace in it, and a run recorded as running (as submit_job does)."""
    store = WorkspaceStore(tmp_path)
    ws = store.open_workspace(new_token())
    store.record_run(ws, "srv-1", "running", {"label": "k=4", "kind": "train"})
    return store, Delivery(str(tmp_path), ws, "srv-1", "k=4", "train", frozenset({"k=32 (bundled)"}))


class Run:
    """A trainer in its thread, with the ended event and the server's last call the actor would keep."""

    def __init__(self, config: TrainConfig, delivery: Delivery) -> None:
        torch.set_num_threads(1)
        self.trainer = build_trainer(JobSpec(config, DATA), torch.device("cpu"))
        self.ended = threading.Event()
        self.contact = time.monotonic()
        self.gone = False
        self.delivery = delivery
        self.thread = threading.Thread(target=self._train, daemon=True)

    def _train(self) -> None:
        self.trainer.run()
        self.ended.set()

    def watch(self, orphan_seconds: float = 30.0) -> tuple[RunWatch, threading.Thread]:
        watch = RunWatch(
            self.trainer, self.delivery, self.ended, lambda: self.contact, lambda: self.gone,
            orphan_seconds=orphan_seconds, tick=0.05, beat_seconds=0.2,
        )  # fmt: skip
        self.thread.start()
        return watch, watch.start()


def wait_for(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def test_a_run_whose_server_went_away_mid_run_is_kept_by_its_worker(shared):
    store, delivery = shared
    run = Run(ENDLESS, delivery)
    watch, thread = run.watch()
    wait_for(lambda: run.trainer.snapshot.step > 100, 30, "training")
    run.gone = True  # Dask released the actor: its client disconnected
    wait_for(lambda: watch.adopted, 5, "adoption")
    beat = store.get_run(delivery.workspace, "srv-1").updated
    time.sleep(0.4)
    assert store.get_run(delivery.workspace, "srv-1").updated > beat  # the worker beats for the run now
    run.trainer.stop()  # the run ends (its budget, or its epochs)
    thread.join(30)
    assert watch.outcome == "kept"
    [record] = store.list_models(delivery.workspace)
    assert record.name.startswith("k=4 linear, ")
    assert store.get_setting(delivery.workspace, ACTIVE) == {"id": record.id}  # a Train run becomes active
    late = keep_finished_run(store, delivery.workspace, "srv-1", run.trainer.snapshot, (), True, delivery.detail)
    assert late.saved.model_id == record.id and late.name == record.name  # a slow server finds it, keeps no copy
    assert len(store.list_models(delivery.workspace)) == 1


def test_a_paused_run_whose_server_is_gone_ends_and_keeps_what_it_has(shared):
    store, delivery = shared
    run = Run(ENDLESS, delivery)
    watch, thread = run.watch()
    wait_for(lambda: run.trainer.snapshot.step > 100, 30, "training")
    run.trainer.pause()
    wait_for(lambda: run.trainer.snapshot.status == "paused", 10, "the pause")
    run.gone = True
    thread.join(30)
    assert watch.outcome == "kept" and run.trainer.snapshot.status == "stopped"
    assert len(store.list_models(delivery.workspace)) == 1


def test_after_an_ordinary_end_the_server_keeps_the_model_and_the_worker_none(shared):
    store, delivery = shared
    run = Run(SHORT, delivery)
    watch, thread = run.watch(orphan_seconds=30)
    run.ended.wait(30)
    time.sleep(0.2)
    kept = keep_finished_run(store, delivery.workspace, "srv-1", run.trainer.snapshot, (), True, delivery.detail)
    thread.join(5)
    assert not thread.is_alive() and watch.outcome == "settled by server"
    assert [r.id for r in store.list_models(delivery.workspace)] == [kept.saved.model_id]


def test_a_server_silent_after_the_end_is_replaced_by_the_worker(shared):
    store, delivery = shared
    run = Run(SHORT, delivery)
    run.contact = time.monotonic() - 60  # the server read the last snapshot and died before keeping it
    watch, thread = run.watch(orphan_seconds=0.5)
    thread.join(30)
    assert watch.outcome == "kept" and len(store.list_models(delivery.workspace)) == 1


def test_a_run_its_server_discarded_before_going_is_stopped_not_kept(shared):
    store, delivery = shared
    run = Run(ENDLESS, delivery)
    watch, thread = run.watch()
    wait_for(lambda: run.trainer.snapshot.step > 10, 30, "training")
    store.settle_run(delivery.workspace, "srv-1", "discarded", delivery.detail)  # Reset, then the server went
    run.gone = True
    thread.join(30)
    assert watch.outcome == "settled by server"
    run.ended.wait(10)
    assert run.trainer.snapshot.status == "stopped"
    assert store.list_models(delivery.workspace) == []


def test_a_worker_without_the_shared_data_dir_keeps_nothing(tmp_path):
    delivery = Delivery(str(tmp_path / "not-shared"), "w", "r", "k=4", "train")
    run = Run(SHORT, delivery)
    watch, thread = run.watch()
    thread.join(30)
    assert watch.outcome == "no store" and not (tmp_path / "not-shared").exists()

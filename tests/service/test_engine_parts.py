"""The engine's pieces without a cluster: snapshot deltas, worker placement, the lifespan hook."""

from __future__ import annotations

from types import SimpleNamespace

import torch

from model.config import TrainConfig
from model.train import Trainer
from service import engine as eng
from service.job_spec import MnistData
from service.worker_side import make_delta
from tests.conftest import make_idx_dataset, run_async
from tests.model.conftest import digit_tensors


def finished_snapshot():
    train, test = digit_tensors(200, seed=3), digit_tensors(60, seed=4)
    trainer = Trainer(TrainConfig(latent_dim=3, epochs=3, batch_size=50), train, test, replay_images=test[:20])
    return trainer.run()


def test_a_delta_carries_only_what_the_server_lacks():
    snap = finished_snapshot()  # 12 steps, replay frames of epochs 0..3
    first = make_delta(snap, "a", 1, known_step=0, known_epochs=(), state_step=-1)
    assert first.loss_from == 0 and torch.equal(first.losses, snap.train_loss)
    assert first.state is not None and first.replay_from == 0 and len(first.replay) == 4
    later = make_delta(snap, "a", 2, known_step=8, known_epochs=(0, 1, 2), state_step=12)
    assert later.loss_from == 8 and torch.equal(later.losses, snap.train_loss[8:])
    assert later.state is None  # the weights at step 12 are already there
    assert later.replay_from == 3 and len(later.replay) == 1
    replaced = make_delta(snap, "a", 3, known_step=12, known_epochs=(0, 1, 9), state_step=8)
    assert replaced.replay_from == 2 and len(replaced.replay) == 2  # a latest frame the trainer replaced
    assert replaced.state is not None and len(replaced.losses) == 0


class FakeClient:
    """The two scheduler questions placement asks."""

    status = "running"

    def __init__(self, workers: dict, held: dict) -> None:
        self._workers, self._held = workers, held
        self.scheduler = SimpleNamespace(identity=self._identity, address="fake")

    def _identity(self, n_workers: int = 0) -> dict:
        return {"workers": self._workers if n_workers else {}}  # Dask's default leaves the workers out

    def sync(self, func, *args, **kwargs):
        return func(*args, **kwargs)

    def has_what(self) -> dict:
        return self._held


def test_placement_picks_a_free_worker_and_a_gpu_first():
    workers = {"cpu-a": {"nthreads": 1}, "gpu": {"nthreads": 1, "resources": {"GPU": 1}}, "cpu-b": {"nthreads": 1}}
    engine = eng.Engine(FakeClient(workers, {"gpu": (), "cpu-a": (), "cpu-b": ()}), None, "external")
    assert engine.place(f"{eng.ACTOR_PREFIX}1") == "gpu"
    assert engine.place(f"{eng.ACTOR_PREFIX}2") in ("cpu-a", "cpu-b")  # the GPU is busy: a free CPU worker
    engine.forget(f"{eng.ACTOR_PREFIX}1")
    assert engine.place(f"{eng.ACTOR_PREFIX}3") == "gpu"


def test_placement_counts_other_servers_trainers():
    workers = {"a": {"nthreads": 1}, "b": {"nthreads": 1}}
    held = {"a": (f"{eng.ACTOR_PREFIX}elsewhere", "some-data"), "b": ("some-data",)}
    assert eng.Engine(FakeClient(workers, held), None, "external").place(f"{eng.ACTOR_PREFIX}x") == "b"


def test_the_lifespan_starts_and_closes_the_engine(monkeypatch):
    monkeypatch.setenv(eng.MODE_ENV, "threads")
    monkeypatch.setenv(eng.MAX_JOBS_ENV, "1")
    monkeypatch.delenv(eng.ADDRESS_ENV, raising=False)
    monkeypatch.setattr(eng, "_engine", None)
    monkeypatch.setattr(eng, "_failed", None)

    async def serve() -> eng.Engine:
        async with eng.engine_lifespan(object()):
            engine = eng.get_engine()  # the one the lifespan started
            assert engine.mode == "threads" and engine.capacity() == 1
            return engine

    engine = run_async(serve())
    assert eng._engine is None and engine.client.status == "closed"


def test_a_worker_loads_mnist_once_however_the_folder_is_spelled(tmp_path, monkeypatch):
    from service import worker_side

    folder = tmp_path / "mnist"
    make_idx_dataset(folder, n_train=30, n_test=10)
    monkeypatch.setattr(worker_side, "_mnist", {})
    monkeypatch.setenv("MNIST_CACHE_DIR", str(tmp_path / "cache"))
    first = worker_side.worker_mnist(str(folder))
    assert worker_side.worker_mnist(f"{folder}/") is first
    assert worker_side.worker_mnist(str(tmp_path / "mnist" / ".." / "mnist")) is first
    assert len(first.train) == 30
    monkeypatch.setenv("MNIST_DIR", str(folder))
    assert MnistData.as_server_sees_it(30) == MnistData(str(folder), 30)

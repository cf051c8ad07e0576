"""On the worker: a workspace run outlives the server that started it, and its model still reaches the workspace.

The server's RemoteTrainer calls the run's actor every REFRESH_SECONDS while it trains. When that server stops
or is killed, its Dask client disconnects and the scheduler releases the actor's key: the worker drops the
actor from `worker.state.actors`, but the trainer's own thread trains on. This watch then adopts the run: it
beats the run's record (so no replica marks it interrupted), lets a held run go on, ends a paused one (no
server is left to resume it), and at the run's end keeps the model in the shared store itself. After an
ordinary end the server keeps it; a server that went silent before doing so is replaced by the watch after
ORPHAN_SECONDS. Either way the run's record is the claim (service/keep_model.py): the model is kept once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from model.train import Trainer
from service.job_spec import Delivery
from service.keep_model import BEAT_SECONDS, keep_finished_run
from service.workspace_store import CLAIMABLE_RUN_STATUSES, WorkspaceStore

ORPHAN_SECONDS = 30.0  # a finished run no server has settled after this much silence is kept by its worker
TICK_SECONDS = 1.0  # how often the watch looks
_LOG = logging.getLogger(__name__)


class RunWatch:
    """Watches one workspace run on its worker; keeps its model if its server is gone (a daemon thread)."""

    def __init__(
        self,
        trainer: Trainer,
        delivery: Delivery,
        ended: threading.Event,
        last_contact: Callable[[], float],
        released: Callable[[], bool],
        orphan_seconds: float = ORPHAN_SECONDS,
        tick: float = TICK_SECONDS,
        beat_seconds: float = BEAT_SECONDS,
    ) -> None:
        """last_contact: monotonic time of the server's latest call; released: whether Dask dropped the actor."""
        self.trainer = trainer
        self.delivery = delivery
        self.ended = ended
        self.last_contact = last_contact
        self.released = released
        self.orphan_seconds = orphan_seconds
        self.tick = tick
        self.beat_seconds = beat_seconds
        self.adopted = False  # the server is gone: this watch speaks for the run
        self.outcome: str = ""  # what the watch did at the end, for tests and logs

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="studio-run-watch", daemon=True)
        thread.start()
        return thread

    def run(self) -> None:
        """Watch until the run is settled by its server, or settle it here; never raises."""
        try:
            self.outcome = self._watch()
        except Exception:  # noqa: BLE001 - a locked or missing store must not take the worker down
            _LOG.warning("Watching a workspace run failed", exc_info=True)
            self.outcome = "error"

    def _watch(self) -> str:
        d = self.delivery
        store = WorkspaceStore.existing(d.data_dir)
        if store is None:
            _LOG.warning("This worker does not share the servers' STUDIO_DATA_DIR; a run's model can only reach it via its server.")
            return "no store"
        last_beat = 0.0
        while not self.ended.wait(self.tick):
            if not self.adopted and self.released():
                if not self._claimable(store):  # its server ended it (failed, discarded) before going
                    self.trainer.stop()
                    return "settled by server"
                self._adopt()
            if self.adopted and time.monotonic() - last_beat >= self.beat_seconds:
                last_beat = time.monotonic()
                if not store.beat_run(d.workspace, d.run_id):  # settled or forgotten meanwhile
                    self.trainer.stop()
                    return "settled elsewhere"
        if not self.adopted:  # an ordinary end: the server keeps the model, unless it falls silent first
            while time.monotonic() - self.last_contact() < self.orphan_seconds:
                if not self._claimable(store):
                    return "settled by server"
                time.sleep(self.tick)
            if not self._claimable(store):
                return "settled by server"
        kept = keep_finished_run(
            store, d.workspace, d.run_id, self.trainer.snapshot, d.reserved_names, d.kind == "train", d.detail
        )
        _LOG.info("A run whose server had gone ended on its worker; its model was %s.", "kept" if kept else "not kept")
        return "kept" if kept is not None and kept.saved.model_id else "not kept"

    def _adopt(self) -> None:
        """The server is gone: nobody will release a hold or resume a pause, so carry on or end here."""
        self.adopted = True
        self.trainer.release()
        if self.trainer.pause_requested:
            self.trainer.stop()  # paused by its user: it ends with the model it has, which is kept

    def _claimable(self, store: WorkspaceStore) -> bool:
        run = store.get_run(self.delivery.workspace, self.delivery.run_id)
        return run is not None and run.status in CLAIMABLE_RUN_STATUSES

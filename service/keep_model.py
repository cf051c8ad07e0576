"""A finished run's model into its workspace, exactly once: by its server, or by its worker when the server is gone.

Both sides call `keep_finished_run`; the store's run record is the claim (see WorkspaceStore.put_model): the
first to settle the run keeps the model, and the other reads what was kept from the run's record.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import torch

from model.latent import project_replay
from model.train import FAILURES, Snapshot
from service.entry_codec import entry_to_record
from service.model_entry import ModelEntry, readable_name
from service.workspace_store import QuotaError, RunSettled, StoreError, WorkspaceStore

ACTIVE = "active_model"  # workspace setting: {"id": model id} or {"bundled": name}
KEPT_LOSS_POINTS = 6000  # a kept model's loss curve, averaged: the chart draws 600 (batch 1, 200 epochs: 12M steps)
BEAT_SECONDS = 20.0  # an active run is re-recorded this often (by its server, or by its worker once orphaned) ...
STALE_SECONDS = 3 * BEAT_SECONDS  # ... so a run not re-recorded for this long died with whoever ran it


@dataclass(frozen=True)
class Saved:
    """What saving a model did: its id (None when refused), the models removed to make room, or why it failed."""

    model_id: str | None
    dropped: tuple[str, ...] = ()
    error: str = ""


@dataclass(frozen=True)
class Kept:
    """What became of a finished run's model (read by the tab that collects the job)."""

    name: str
    saved: Saved


def snapshot_failure(snap: Snapshot) -> str | None:
    """Why a finished run has no model to keep, or None when it has one."""
    if snap.status in FAILURES:
        return snap.message
    if snap.step == 0:
        return "Training stopped before the first step; no model was kept."
    return None


def kept_curve(losses: torch.Tensor, max_points: int = KEPT_LOSS_POINTS) -> tuple[torch.Tensor, int]:
    """A loss curve averaged in buckets to at most max_points, and the bucket size (steps a point)."""
    bucket = max(1, -(-losses.shape[0] // max_points))
    if bucket == 1:
        return losses.clone(), 1
    usable = (losses.shape[0] // bucket) * bucket
    means = losses[:usable].reshape(-1, bucket).mean(dim=1)
    tail = losses[usable:].mean().reshape(1) if usable < losses.shape[0] else losses[:0]
    return torch.cat([means, tail]), bucket


def entry_from_snapshot(snap: Snapshot, taken: set[str]) -> ModelEntry:
    """A finished run as a model the user can pick, download and compare; what it keeps is small and bounded."""
    cfg = snap.config
    name = readable_name(cfg.latent_dim, cfg.activation, snap.epochs_started, taken, cfg.noise, cfg.output)
    info = snap.model_info(name, snap.epochs_started)
    curve, bucket = kept_curve(snap.train_loss)
    return ModelEntry(
        name=name,
        model=snap.to_model(),
        info=info,
        source="trained",
        replay=project_replay(snap.replay),
        replay_epochs=snap.replay_epochs,
        train_loss=curve,
        test_mse_per_epoch=snap.test_mse,
        noisy_test_mse_per_epoch=snap.noisy_test_mse,
        steps_per_epoch=snap.steps_per_epoch / bucket,
        warning=snap.warning,
        pca_similarity_per_epoch=snap.pca_similarity,
        pca_angles=snap.pca_angles,
    )


def store_entry(
    store: WorkspaceStore,
    ws: str,
    entry: ModelEntry,
    make_active: bool,
    run_id: str | None = None,
    run_detail: dict[str, Any] | None = None,
) -> Saved:
    """Save a model; at the model limit the oldest makes room (as before workspaces), a byte limit is reported.

    With `run_id`, RunSettled propagates: someone else kept (or ended) that run first.
    """
    tensors, meta = entry_to_record(entry)
    dropped: list[str] = []
    while True:
        try:
            model_id = store.put_model(ws, entry.name, tensors, meta, run_id=run_id, run_detail=run_detail)
            break
        except QuotaError as exc:
            records = store.list_models(ws)
            if len(records) < store.limits.max_models or not records:
                return Saved(None, tuple(dropped), str(exc))  # the byte cap: the user chooses what to delete
            store.delete_model(ws, records[0].id)
            dropped.append(records[0].name)
        except RunSettled:
            raise
        except StoreError as exc:
            return Saved(None, tuple(dropped), str(exc))
    if make_active:
        store.set_setting(ws, ACTIVE, {"id": model_id})
    return Saved(model_id, tuple(dropped))


def keep_finished_run(
    store: WorkspaceStore,
    ws: str,
    run_id: str,
    snap: Snapshot,
    reserved_names: Iterable[str],
    make_active: bool,
    detail: dict[str, Any],
) -> Kept | None:
    """Keep a finished run's model unless the run was settled already; what became of it (None: ended without one)."""
    failure = snapshot_failure(snap)
    if failure is not None:
        store.settle_run(ws, run_id, "failed", {**detail, "message": failure})
        return None
    taken = set(reserved_names) | {r.name for r in store.list_models(ws)}
    entry = entry_from_snapshot(snap, taken)
    try:
        saved = store_entry(store, ws, entry, make_active, run_id=run_id, run_detail=detail)
    except RunSettled:
        return kept_elsewhere(store, ws, run_id)
    if saved.model_id is None:
        store.settle_run(ws, run_id, "not kept", {**detail, "model": entry.name, "message": saved.error})
    return Kept(entry.name, saved)


def kept_elsewhere(store: WorkspaceStore, ws: str, run_id: str) -> Kept | None:
    """What the process that settled the run first kept (None: it ended without a model)."""
    run = store.get_run(ws, run_id)
    detail = run.detail if run is not None and isinstance(run.detail, dict) else {}
    if run is None or run.status != "finished" or not isinstance(detail.get("model_id"), str):
        return None
    return Kept(str(detail.get("model", "")), Saved(detail["model_id"]))

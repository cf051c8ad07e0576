"""The Compare page's parts: the model picker, the reconstruction grid, the table and the sweep."""

from __future__ import annotations

import streamlit as st
import torch

from model.autoencoder import INPUT_DIM, activation_label
from model.data import Mnist
from model.pca import Pca
from ui.compare_figures import ModelPoint
from ui.images import mosaic
from ui.latent_data import test_mse
from ui.models import ModelEntry
from ui.resources import Reference, job_manager
from ui.training import (
    SWEEP_KS,
    cancel_sweep,
    poll_sweep,
    start_sweep,
    status_poll_seconds,
    sweep_jobs,
    sweep_settings,
)

PICK_KEY = "compare_models"
DEFAULT_PICKS = 4


def models_picker_ui(models: dict[str, ModelEntry]) -> list[ModelEntry]:
    """Several models to put side by side; the newest four to start with, stale picks dropped."""
    names = list(models)
    if PICK_KEY in st.session_state:
        st.session_state[PICK_KEY] = [n for n in st.session_state[PICK_KEY] if n in models]
    else:
        st.session_state[PICK_KEY] = names[-DEFAULT_PICKS:]
    picked = st.multiselect("Models to compare", names, key=PICK_KEY, placeholder="Pick one or more models")
    return [models[n] for n in picked]


def grid_rows(entries: list[ModelEntry], samples: torch.Tensor, pca: Pca) -> list[tuple[str, torch.Tensor]]:
    """(label, (n, 784) images) per row: the originals, then each model's reconstruction and PCA at its k."""
    rows = [("original", samples)]
    with torch.no_grad():
        for entry in entries:
            k = entry.latent_dim
            linear = entry.model.output == "linear" and "linear output" not in entry.name
            rows.append((entry.name + (" (linear output)" if linear else ""), entry.model(samples)))
            rows.append((f"PCA, k = {k}", pca.reconstruct(samples, k).clamp(0, 1)))
    return rows


def grid_view(rows: list[tuple[str, torch.Tensor]]) -> None:
    with st.container(key="compare_grid"):
        for label, images in rows:
            left, right = st.columns([1, 3], vertical_alignment="center")
            left.markdown(f"**{label}**" if not label.startswith("PCA") else label)
            right.image(mosaic(images, columns=images.shape[0], scale=2), output_format="PNG")


def _mse(entry: ModelEntry, mnist: Mnist | None) -> float | None:
    return test_mse(entry, mnist) if mnist is not None else entry.info.test_mse


def model_points(models: dict[str, ModelEntry], mnist: Mnist | None) -> list[ModelPoint]:
    """Every model with a test MSE, for the chart (measured on the loaded test set when there is one)."""
    points = []
    for entry in models.values():
        mse = _mse(entry, mnist)
        if mse is not None:
            points.append(ModelPoint(entry.name, entry.latent_dim, mse, entry.source, entry.model.output))
    return points


def table_rows(models: dict[str, ModelEntry], mnist: Mnist | None, ref: Reference | None) -> list[dict]:
    """One row a model: size, settings, time, test MSE beside PCA's at the same k, compression."""
    rows = []
    for entry in models.values():
        k, info = entry.latent_dim, entry.info
        pca = float(ref.test_mse_curve[k - 1]) if ref is not None else None
        mse = _mse(entry, mnist)
        rows.append(
            {
                "model": entry.name,
                "k": k,
                "activation": activation_label(entry.model.activation),
                "output": entry.model.output,
                "epochs": info.epochs,
                "training time (s)": None if info.seconds is None else round(info.seconds, 1),
                "test MSE": mse,
                "PCA MSE at k": pca,
                "vs PCA": None if mse is None or not pca else f"{mse / pca:.2f}×",
                "compression (784 / k)": f"{INPUT_DIM / k:.1f}×",
            }
        )
    return rows


def table_view(rows: list[dict]) -> None:
    fmt = st.column_config.NumberColumn
    st.dataframe(
        rows,
        hide_index=True,
        width="stretch",
        column_config={
            "test MSE": fmt(format="%.4f"),
            "PCA MSE at k": fmt(format="%.4f", help="PCA's test MSE at this k: the best a purely linear model can do."),
            "vs PCA": st.column_config.TextColumn(
                help="Test MSE divided by PCA's: below 1.00× the sigmoid output beats PCA."
            ),
            "output": st.column_config.TextColumn(
                help="The decoder's output: sigmoid, or linear (the PCA theorem's model, which lands on PCA's error)."
            ),
        },
    )


def sweep_ui(mnist: Mnist | None) -> None:
    """One button trains k = 2 … 64 with the Train page's settings; the chart fills as they finish."""
    base = sweep_settings()
    ks = ", ".join(str(k) for k in SWEEP_KS)
    kind = activation_label(base.activation) + (", linear output" if base.output == "linear" else "")
    st.caption(
        f"Trains k = {ks} in the background with the Train page's latest settings ({kind}, {base.epochs} "
        f"epochs, batch {base.batch_size}, learning rate {base.lr:g}). Each model joins your models as it "
        "finishes; you can leave this page meanwhile. On a small shared server it takes several minutes."
    )
    running = bool(sweep_jobs())
    a, b = st.columns(2)
    if mnist is None:
        a.button("Train a sweep", disabled=True, help="Needs MNIST.", width="stretch")
    elif a.button("Train a sweep", type="primary", disabled=running, width="stretch"):
        start_sweep(base, mnist)
        running = True
    if b.button("Cancel the sweep", disabled=not running, width="stretch"):
        cancel_sweep()
        st.info("Sweep cancelled; models already finished are kept.")
        running = False
    if running:
        st.fragment(_sweep_progress, run_every=status_poll_seconds(sweep_jobs()))()


def _sweep_progress() -> None:
    """Each sweep job's line, redrawn at the load-aware pace of ui.training.poll_seconds."""
    if poll_sweep():
        st.rerun(scope="app")
    manager = job_manager()
    for job in sweep_jobs():
        name = job.label.split(",")[0]
        if job.queued:
            st.caption(f"{name}: waiting for a free trainer (number {manager.queue_position(job.id)} in line).")
        elif job.snapshot is not None:
            st.progress(job.snapshot.progress, text=f"{name}: {job.snapshot.progress:.0%}")

"""The Compare page's parts: the model picker, the reconstruction grid, each model's score on its task, the table."""

from __future__ import annotations

import streamlit as st
import torch

from model.autoencoder import INPUT_DIM, Output, activation_label
from model.data import Mnist
from model.noise import NO_NOISE, add_noise
from model.pca import Pca
from model.scoring import pca_reconstruct
from service.model_entry import ModelEntry
from ui.figures.compare import ModelPoint
from ui.figures.images import mosaic
from ui.run_labels import noise_text
from ui.server.latent import test_mse
from ui.server.resources import Reference
from ui.server.scores import noisy_scores
from ui.text import md, plain

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
    """(label, (n, 784) images) per row: the originals, then each model's output and PCA's at its k.

    A denoiser is shown on its task: its noisy input first, then what it and PCA make of that input.
    """
    rows = [("original", samples)]
    with torch.no_grad():
        for entry in entries:
            k, task, inputs, same = entry.latent_dim, denoising_task(entry), samples, ""
            if task is not None:
                inputs, same = add_noise(samples, *task[:2], seed=task[2]), ", same noisy input"
                rows.append((f"noisy input: {noise_text(*task[:2]).removeprefix('denoising, ')}", inputs))
            linear = entry.model.output == Output.LINEAR and "linear output" not in entry.name
            rows.append((entry.name + (" (linear output)" if linear else ""), entry.model(inputs)))
            rows.append((f"PCA, k = {k}{same}", pca_reconstruct(pca, inputs, k)))
    return rows


def grid_view(rows: list[tuple[str, torch.Tensor]]) -> None:
    with st.container(key="compare_grid"):
        for label, images in rows:
            left, right = st.columns([1, 3], vertical_alignment="center")
            left.markdown(f"**{md(label)}**" if not label.startswith(("PCA", "noisy input")) else label)
            right.image(
                mosaic(images, columns=images.shape[0], scale=2),
                output_format="PNG",
                alt=f"{plain(label)}: {images.shape[0]} digits, one of each class",
            )


def denoising_task(entry: ModelEntry) -> tuple[str, float, int] | None:
    """(noise kind, level, seed) of a model trained as a denoiser, None for a plain autoencoder."""
    cfg = entry.info.config
    return None if cfg is None or cfg.noise == NO_NOISE else (cfg.noise, cfg.noise_level, cfg.seed)


def task_scores(entry: ModelEntry, mnist: Mnist | None, ref: Reference | None) -> tuple[float | None, float | None]:
    """(test MSE, PCA's at the same k) on the task the model learned: noisy digits in for a denoiser.

    Measured on the loaded test set when there is one, else the model's recorded figure (and no PCA).
    """
    task = denoising_task(entry)
    pca_clean = float(ref.test_mse_curve[entry.latent_dim - 1]) if ref is not None else None
    if task is None:
        return (test_mse(entry, mnist) if mnist is not None else entry.info.test_mse), pca_clean
    if mnist is None:
        recorded = entry.noisy_test_mse_per_epoch
        return (recorded[-1] if recorded else None), None
    pca = ref.pca if ref is not None else None
    return noisy_scores(entry, mnist, task, pca)


def task_text(entry: ModelEntry) -> str:
    task = denoising_task(entry)
    return "" if task is None else noise_text(task[0], task[1])


def model_points(models: dict[str, ModelEntry], mnist: Mnist | None, ref: Reference | None = None) -> list[ModelPoint]:
    """Every model with a test MSE, for the chart: a denoiser's on noisy digits, with PCA's on the same."""
    points = []
    for entry in models.values():
        mse, pca = task_scores(entry, mnist, ref)
        if mse is not None:
            task = task_text(entry)
            points.append(
                ModelPoint(
                    entry.name, entry.latent_dim, mse, entry.source, task, pca if task else None, entry.model.output
                )
            )
    return points


def table_rows(models: dict[str, ModelEntry], mnist: Mnist | None, ref: Reference | None) -> list[dict]:
    """One row a model: its task, size, settings, time, test MSE on its task beside PCA's, compression."""
    rows = []
    for entry in models.values():
        k, info = entry.latent_dim, entry.info
        mse, pca = task_scores(entry, mnist, ref)
        denoiser = denoising_task(entry) is not None
        clean = (test_mse(entry, mnist) if mnist is not None else info.test_mse) if denoiser else None
        rows.append(
            {
                "model": entry.name,
                "trained for": task_text(entry) or "reconstruction",
                "k": k,
                "activation": activation_label(entry.model.activation),
                "output": entry.model.output,
                "epochs": info.epochs,
                "training time (s)": None if info.seconds is None else round(info.seconds, 1),
                "test MSE on its task": mse,
                "PCA MSE at k, same input": pca,
                "vs PCA": None if mse is None or not pca else f"{mse / pca:.2f}×",
                "denoiser: clean-input MSE": clean,
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
            "test MSE on its task": fmt(
                format="%.4f",
                help="On the task the model learned: clean digits in, or for a denoiser its noisy digits in "
                "(the clean ones are the target).",
            ),
            "PCA MSE at k, same input": fmt(
                format="%.4f",
                help="PCA at this k given the same input. For clean digits it is the best a purely linear model "
                "of this size can do; for a denoiser's noisy digits it is the reference that learned nothing "
                "about the noise.",
            ),
            "denoiser: clean-input MSE": fmt(
                format="%.4f",
                help="Denoisers only: clean digits in. Higher than on noisy digits, as every input it learned "
                "from was noisy.",
            ),
            "vs PCA": st.column_config.TextColumn(
                help="Test MSE divided by PCA's: below 1.00× the sigmoid output beats PCA."
            ),
            "output": st.column_config.TextColumn(
                help="The decoder's output: sigmoid, or linear (the PCA theorem's model, which lands on PCA's error)."
            ),
        },
    )

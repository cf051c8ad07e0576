"""What the Train page shows of a run: progress, loss chart, reconstructions, weights beside PCA."""

from __future__ import annotations

from dataclasses import dataclass

import plotly.graph_objects as go
import streamlit as st
import torch

from model.autoencoder import LinearAutoencoder, Output
from model.config import TrainConfig
from model.noise import NO_NOISE, add_noise, noise_name
from model.plural import plural
from model.train import FAILURES, Snapshot, Status
from service.model_entry import ModelEntry
from ui.figures.images import CLIP_NOTE, mosaic, normalise_each, png_data_url
from ui.figures.train import LIVE_CHART_CONFIG, PCA_EXACT_MSE, loss_figure
from ui.run_labels import run_title
from ui.server.resources import Reference
from ui.session.memo import per_object
from ui.views.train_pca import pca_panel

MAX_WEIGHT_IMAGES = 32


def format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "estimating…"
    seconds = int(round(seconds))
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


def progress_text(snap: Snapshot, status: str | None = None) -> str:
    """The progress line: which run, its state (`status` when the page knows better), how far it is."""
    cfg = snap.config
    parts = [
        f"epoch {min(snap.epoch + (0 if snap.finished else 1), cfg.epochs)}/{cfg.epochs}",
        f"step {snap.step:,}/{snap.total_steps:,}",
        f"{snap.samples_per_second:,.0f} samples/s",
    ]
    if not snap.finished:
        parts.append(f"{format_seconds(snap.seconds_left)} left")
    else:
        parts.append(f"took {format_seconds(snap.elapsed)}")
    return f"**{status or snap.status.capitalize()}**: {run_title(cfg)} · " + " · ".join(parts)


@dataclass(frozen=True)
class Picture:
    """A picture as st.image takes it: an inline PNG (no media file for the browser to fetch), caption, alt."""

    url: str
    caption: str
    alt: str

    def show(self, where=st) -> None:
        where.image(self.url, caption=self.caption, alt=self.alt)


def samples_picture(
    model: LinearAutoencoder, samples: torch.Tensor, caption: str, config: TrainConfig | None
) -> Picture:
    """Ten fixed test digits (top) and what the model makes of them (bottom).

    A denoiser is shown the noisy digits it learns from (seeded like its noisy test set), with its output
    for those: its output for clean digits looks odd, since it never saw one (see the README).
    """
    rows = [samples]
    with torch.no_grad():
        if config is not None and config.noise != NO_NOISE:
            noisy = add_noise(samples, config.noise, config.noise_level, seed=config.seed)
            rows += [noisy, model(noisy)]
            kind = noise_name(config.noise)
            caption = (
                f"Top: test digits. Middle: with the {kind} noise (level {config.noise_level:g}) this denoiser "
                "learns from. Bottom: its output for the noisy digits."
            )
        else:
            rows.append(model(samples))
    if model.output == Output.LINEAR:
        caption += " " + CLIP_NOTE
    return Picture(
        png_data_url(mosaic(torch.cat(rows), columns=samples.shape[0], scale=3)),
        caption,
        f"{len(rows)} rows of {samples.shape[0]} digits: test digits, then the model's versions of them",
    )


def samples_view(model: LinearAutoencoder, samples: torch.Tensor, caption: str, config: TrainConfig | None) -> None:
    """The samples picture, drawn."""
    samples_picture(model, samples, caption, config).show()


def weight_counts(k: int) -> tuple[int, int, str]:
    """(images shown, columns, note): the first MAX_WEIGHT_IMAGES decoder vectors, 8 to a row."""
    shown = min(k, MAX_WEIGHT_IMAGES)
    return shown, min(shown, 8), f" (first {shown} of {k})" if k > shown else ""


@st.cache_resource(max_entries=64, show_spinner=False)
def _components_picture(_ref: Reference, shown: int, columns: int) -> str:
    """The first principal components as one inline PNG: encoded once, the same for every poll at this k."""
    return png_data_url(mosaic(normalise_each(_ref.pca.components.T[:shown]), columns=columns, scale=2), small=True)


def decoder_picture(model: LinearAutoencoder) -> Picture:
    """The decoder's weight vectors as images (its first MAX_WEIGHT_IMAGES)."""
    shown, columns, note = weight_counts(model.latent_dim)
    with torch.no_grad():
        decoder = normalise_each(model.decoder.weight.T[:shown].detach())  # (784, k) -> (shown, 784)
    return Picture(
        png_data_url(mosaic(decoder, columns=columns, scale=2)),
        f"Decoder weight vectors{note}",
        f"The decoder's first {shown} weight vectors as 28 × 28 images",
    )


def weights_view(model: LinearAutoencoder, ref: Reference, decoder: Picture | None = None) -> None:
    """Decoder weight vectors as images beside the first k principal components (decoder: built already)."""
    shown, columns, note = weight_counts(model.latent_dim)
    left, right = st.columns(2)
    (decoder or decoder_picture(model)).show(left)
    right.image(
        _components_picture(ref, shown, columns),
        caption=f"First principal components{note}",
        alt=f"PCA's first {shown} components as 28 × 28 images",
    )
    st.caption(
        "Each decoder vector is what one latent number adds to the output. A linear autoencoder spans the "
        "same space as the first k components, but its vectors are mixtures of them, not the components."
    )


@dataclass(frozen=True)
class RunDrawing:
    """What run_view draws of one snapshot, built once per snapshot (a poll that finds no new one reuses it)."""

    figure: go.Figure
    model: LinearAutoencoder
    samples: Picture
    decoder: Picture


def run_drawing(snap: Snapshot, ref: Reference, samples: torch.Tensor) -> RunDrawing:
    """The loss chart, the model and its pictures at this snapshot."""
    cfg = snap.config
    figure = loss_figure(
        snap.train_loss,
        snap.steps_per_epoch,
        snap.test_mse,
        float(ref.test_mse_curve[cfg.latent_dim - 1]),
        cfg.latent_dim,
        cfg.epochs,
        snap.noisy_test_mse,
        snap.lr_changes,
    )
    model = snap.to_model()
    caption = "Top: test digits. Bottom: the model's reconstructions, as training goes."
    return RunDrawing(figure, model, samples_picture(model, samples, caption, cfg), decoder_picture(model))


def run_view(snap: Snapshot, ref: Reference, samples: torch.Tensor, status: str | None = None) -> None:
    """The full picture of a run at one snapshot; its chart and pictures are built once per snapshot."""
    cfg = snap.config
    st.progress(snap.progress, text=progress_text(snap, status))
    if snap.message:
        (st.error if snap.status in FAILURES else st.caption)(snap.message)
    if snap.warning:
        st.warning(snap.warning)
    drawing = per_object("train_run_view", snap, lambda: run_drawing(snap, ref, samples))
    live = snap.status == Status.RUNNING  # redrawn at every poll: static; paused or over: zoom and hover
    st.plotly_chart(drawing.figure, key="train_loss_chart", config=LIVE_CHART_CONFIG if live else None)
    drawing.samples.show()
    weights_view(drawing.model, ref, drawing.decoder)
    # Keyed by epoch: the trainer scores the angles once per epoch, and what the buttons show (rotation,
    # recovered components) is recomputed at each epoch's end rather than at every poll (seconds at k = 784).
    key = ("run", cfg.to_json(), snap.epoch, snap.finished)
    pca_panel(
        drawing.model, ref, samples, snap.test_mse, snap.pca_similarity, key=key, angles=snap.pca_angles, live=live
    )


def initial_view(config: TrainConfig, ref: Reference, samples: torch.Tensor) -> None:
    """Before Start (or after Reset): the seed's initial weights and what they make of the digits."""
    from model.train import init_weights

    start_bias = ref.pca.mean.float() if config.bias_init == "mean" else None  # the trainer's average digit
    model = init_weights(
        LinearAutoencoder(config.latent_dim, config.activation, config.output), config.seed, start_bias
    ).eval()
    st.info(f"Ready: k = {config.latent_dim}, seed {config.seed}. {pca_sentence(config.latent_dim, ref)}")
    samples_view(
        model, samples, "Top: test digits. Bottom: reconstructions by the untrained model (this seed).", config
    )


def pca_sentence(k: int, ref: Reference) -> str:
    """What PCA reaches at k, the autoencoder's yardstick; at k near 784 it is exact."""
    components = plural(k, "component")
    pca_mse = float(ref.test_mse_curve[k - 1])
    if pca_mse < PCA_EXACT_MSE:
        return (
            f"PCA with {components} rebuilds the test digits exactly (error 0): press **Start** and see how "
            "close the autoencoder gets."
        )
    return (
        f"PCA with {components} reaches a test MSE of {pca_mse:.4f}; press **Start** and see whether the "
        "autoencoder beats it."
    )


def last_run_view(entry: ModelEntry, ref: Reference, samples: torch.Tensor) -> None:
    """A finished run, from the model it produced: final curves, reconstructions and weights."""
    cfg = entry.info.config
    epochs = max(1, entry.info.epochs)  # what it trained: a run stopped at epoch 5 of 60 fills the chart
    pca_mse = float(ref.test_mse_curve[entry.latent_dim - 1])
    fig = loss_figure(
        entry.train_loss,
        entry.steps_per_epoch,
        entry.test_mse_per_epoch,
        pca_mse,
        entry.latent_dim,
        epochs,
        entry.noisy_test_mse_per_epoch,
    )
    st.plotly_chart(fig, key="train_loss_chart")
    if entry.warning:
        st.warning(entry.warning)
    samples_view(entry.model, samples, "Top: test digits. Bottom: the trained model's reconstructions.", cfg)
    weights_view(entry.model, ref)
    key = ("entry", entry.name, id(entry.model))
    similarity = entry.pca_similarity_per_epoch
    pca_panel(entry.model, ref, samples, entry.test_mse_per_epoch, similarity, key=key, angles=entry.pca_angles)

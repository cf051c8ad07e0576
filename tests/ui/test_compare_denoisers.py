"""Compare's chart keeps denoisers apart from plain models, each with PCA given the same noisy digits."""

from __future__ import annotations

import torch

from model.autoencoder import LinearAutoencoder
from model.checkpoint import ModelInfo
from model.config import TrainConfig
from model.noise import add_noise
from model.pca import fit_pca
from service.model_entry import ModelEntry
from ui.figures.compare import ModelPoint, mse_vs_k_figure
from ui.views.compare import grid_rows


def test_denoisers_get_their_own_traces() -> None:
    points = [
        ModelPoint("plain", 8, 0.03, "trained"),
        ModelPoint("den", 32, 0.014, "trained", task="denoising, Gaussian noise 0.3", pca_mse=0.025),
        ModelPoint("den up", 16, 0.02, "uploaded", task="denoising, block noise 0.4", pca_mse=None),
    ]
    fig = mse_vs_k_figure(points, [0.1, 0.05])
    traces = {t.name: t for t in fig.data}
    assert list(traces["trained models"].x) == [8], "a denoiser is not drawn as an ordinary model"
    assert "uploaded models" not in traces
    denoisers = traces["denoisers (test MSE, noisy digits in)"]
    assert list(denoisers.x) == [32, 16] and list(denoisers.y) == [0.014, 0.02]
    assert denoisers.marker.symbol == "circle-open"
    assert [list(c) for c in denoisers.customdata][0] == ["den", "denoising, Gaussian noise 0.3"]
    pca = traces["PCA, same noisy digits in"]
    assert list(pca.x) == [32] and list(pca.y) == [0.025], "only where PCA's noisy score is known"


def test_a_denoisers_name_is_escaped_in_its_hover_text() -> None:
    """Plotly renders <a href> in hover text: an uploaded denoiser's name must reach it as text."""
    hostile = '<a href="https://evil.example">x</a>'
    points = [ModelPoint(hostile, 32, 0.014, "uploaded", task="denoising, Gaussian noise 0.3", pca_mse=0.025)]
    for trace in mse_vs_k_figure(points, None).data:
        assert all("<a" not in str(c[0]) for c in trace.customdata or ()), trace.name


def test_no_denoiser_traces_without_denoisers() -> None:
    names = [t.name for t in mse_vs_k_figure([ModelPoint("plain", 8, 0.03, "trained")], None).data]
    assert not any("noisy" in n for n in names)


def _entry(name: str, noise: str = "none", level: float = 0.0) -> ModelEntry:
    torch.manual_seed(0)
    cfg = TrainConfig(latent_dim=3, noise=noise, noise_level=level, seed=4)
    return ModelEntry(name, LinearAutoencoder(3), ModelInfo(3, "none", 1, 0.05, cfg, name), "trained")


def test_grid_shows_a_denoiser_on_its_noisy_input() -> None:
    samples = torch.rand(10, 784, generator=torch.Generator().manual_seed(1))
    pca = fit_pca(torch.rand(100, 784, generator=torch.Generator().manual_seed(2)))
    rows = grid_rows([_entry("plain"), _entry("den", "dropout", 0.5)], samples, pca)
    labels = [label for label, _ in rows]
    assert labels == [
        "original",
        "plain",
        "PCA, k = 3",
        "noisy input: pixel dropout noise 0.5",
        "den",
        "PCA, k = 3, same noisy input",
    ]
    noisy = add_noise(samples, "dropout", 0.5, seed=4)  # the model's own seed: the noise it was scored on
    assert torch.equal(rows[3][1], noisy)
    assert torch.allclose(rows[4][1], _entry("den", "dropout", 0.5).model(noisy))

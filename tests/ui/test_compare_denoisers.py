"""Compare's chart keeps denoisers apart from plain models, each with PCA given the same noisy digits."""

from __future__ import annotations

from ui.compare_figures import ModelPoint, mse_vs_k_figure


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


def test_no_denoiser_traces_without_denoisers() -> None:
    names = [t.name for t in mse_vs_k_figure([ModelPoint("plain", 8, 0.03, "trained")], None).data]
    assert not any("noisy" in n for n in names)

"""The Train page's live view redraws what changed: a new snapshot redraws the chart, the same one reuses it."""

from __future__ import annotations

import json

import pytest
import torch
from streamlit.testing.v1 import AppTest

import ui.views.train as train_view
import ui.views.train_pca as pca_view
from model.autoencoder import LinearAutoencoder
from model.config import TrainConfig
from model.pca import fit_pca
from model.train import Snapshot
from ui.server.resources import Reference

STEPS_PER_EPOCH = 20


def page(snapshots, ref, samples):  # AppTest runs its source alone: no names from this module in annotations
    """The live view of the snapshot the test picks, as each poll of the Train page draws it."""
    import streamlit as st

    from ui.views.train import run_view

    run_view(snapshots[st.session_state.get("shown", 0)], ref, samples)


@pytest.fixture(scope="module")
def ref() -> Reference:
    gen = torch.Generator().manual_seed(0)
    train, test = torch.rand(300, 784, generator=gen), torch.rand(100, 784, generator=gen)
    pca = fit_pca(train)
    return Reference(pca, pca.mse_curve(test), torch.arange(50), torch.arange(10))


def snapshot(step: int, epoch: int, seed: int = 0) -> Snapshot:
    """A running k = 4 run at `step`, its weights drawn from `seed`."""
    torch.manual_seed(seed)
    state = {name: t.clone() for name, t in LinearAutoencoder(4).state_dict().items()}
    losses = torch.linspace(0.1, 0.02, 10 * STEPS_PER_EPOCH)
    return Snapshot(
        config=TrainConfig(latent_dim=4, epochs=10),
        status="running",
        epoch=epoch,
        step=step,
        total_steps=10 * STEPS_PER_EPOCH,
        steps_per_epoch=STEPS_PER_EPOCH,
        samples_seen=step * 256,
        elapsed=1.0,
        train_loss=losses[:step],
        test_mse=tuple(0.05 - 0.001 * e for e in range(epoch)),
        pca_similarity=tuple(0.5 for _ in range(epoch)),
        state=state,
    )


def chart(at: AppTest) -> dict:
    """The loss chart's figure as the browser gets it."""
    return json.loads(at.get("plotly_chart")[0].proto.spec)


def pictures(at: AppTest) -> list[str]:
    """Every picture's URL, in page order: samples, decoder images, principal components."""
    return [url for element in at.get("image") for url in element.value]


def counting(monkeypatch, module, name: str) -> list[int]:
    """Count the calls of module.name from now on (it still does its work)."""
    calls: list[int] = []
    real = getattr(module, name)

    def wrapped(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapped)
    return calls


def test_a_poll_that_finds_the_same_snapshot_rebuilds_nothing(monkeypatch, ref):
    loss_built = counting(monkeypatch, train_view, "loss_figure")
    pca_built = counting(monkeypatch, pca_view, "closeness_figure")
    at = AppTest.from_function(page, args=([snapshot(30, 1)], ref, torch.rand(10, 784))).run()
    assert not at.exception, at.exception
    first_chart, first_pictures = chart(at), pictures(at)
    at.run()  # the next poll: the trainer published nothing new (paused, or slower than the poll)
    assert not at.exception, at.exception
    assert (len(loss_built), len(pca_built)) == (1, 1)
    assert chart(at) == first_chart and pictures(at) == first_pictures  # drawn again, the same
    assert len(first_pictures) == 3 and all(url.startswith("data:image/png;base64,") for url in first_pictures)


def test_a_new_snapshot_redraws_the_chart_and_pictures(monkeypatch, ref):
    loss_built = counting(monkeypatch, train_view, "loss_figure")
    pca_built = counting(monkeypatch, pca_view, "closeness_figure")
    early, later = snapshot(30, 1), snapshot(35, 1, seed=1)  # five steps on, other weights, same epoch
    next_epoch = snapshot(45, 2, seed=2)
    at = AppTest.from_function(page, args=([early, later, next_epoch], ref, torch.rand(10, 784))).run()
    before, pictures_before = chart(at), pictures(at)
    at.session_state["shown"] = 1
    at.run()
    assert not at.exception, at.exception
    assert len(loss_built) == 2
    assert chart(at) != before  # the curve moved on with the step
    now = pictures(at)
    assert now[0] != pictures_before[0] and now[1] != pictures_before[1]  # reconstructions, decoder: new weights
    assert now[2] == pictures_before[2]  # PCA's components: the same picture
    assert len(pca_built) == 1  # the panel's gap chart changes per epoch, not per step
    at.session_state["shown"] = 2
    at.run()
    assert not at.exception, at.exception
    assert len(pca_built) == 2  # a new epoch: its chart is rebuilt
    gap = json.loads(at.get("plotly_chart")[1].proto.spec)
    assert len(gap["data"][0]["x"]) == 2  # one point per scored epoch


def test_a_running_jobs_charts_are_static_and_a_paused_ones_interactive(ref):
    """Each poll mounts the running job's charts anew (no hover or zoom survives it); a paused view stays put."""
    from dataclasses import replace

    running = snapshot(30, 1)
    paused = replace(running, status="paused")
    at = AppTest.from_function(page, args=([running, paused], ref, torch.rand(10, 784))).run()
    assert not at.exception, at.exception
    configs = [json.loads(c.proto.config) for c in at.get("plotly_chart")]
    assert len(configs) == 3 and all(c.get("staticPlot") is True for c in configs)
    at.session_state["shown"] = 1
    at.run()
    assert not at.exception, at.exception
    assert all(not json.loads(c.proto.config).get("staticPlot") for c in at.get("plotly_chart"))

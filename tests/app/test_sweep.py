"""AppTest: the Compare page's sweep says and lets the user choose what it trains; denoisers are scored on
their own task; the buttons and the sidebar follow a sweep in the very run a click causes."""

from __future__ import annotations

import time

import pytest

from model.config import TrainConfig
from tests.app.conftest import open_page, texts
from tests.app.test_latent_compare import charts, values
from ui.server.resources import job_manager
from ui.session import state

COMPARE = "app_pages/compare.py"


@pytest.fixture(autouse=True)
def no_jobs_left():
    yield
    for job in job_manager().active_jobs():
        job_manager().cancel(job.id)
        if job.thread is not None:
            job.thread.join(timeout=10)  # no trainer thread outlives its test


def sweep_button(at, label: str):
    return next(b for b in at.button if b.label == label)


def sidebar_text(at) -> str:
    return "\n".join(str(c.value) for c in at.sidebar.caption)


def compare_after_denoising_training(epochs: int = 1):
    """Compare, opened after the Train page's latest run was a Gaussian-noise denoiser."""
    at = open_page("app_pages/home.py")
    at.session_state[state.TRAIN_SETTINGS] = TrainConfig(epochs=epochs, noise="gaussian", noise_level=0.3)
    at.switch_page(COMPARE).run()
    assert not at.exception, at.exception
    return at


def test_sweep_states_every_setting_and_noise(with_mnist):
    at = compare_after_denoising_training(epochs=3)
    assert at.selectbox(key="sweep_noise").value == "gaussian", "filled from the Train page's latest run"
    caption = texts(at)
    for part in ("denoisers", "3 epochs", "batch 256", "learning rate 0.01 (cosine)", "seed 0", "Gaussian noise 0.3"):
        assert part in caption, part
    at.selectbox(key="sweep_noise").set_value("none").run()
    at.number_input(key="sweep_epochs").set_value(1).run()
    assert at.slider(key="sweep_level").disabled
    caption = texts(at)
    assert "no noise" in caption and "1 epoch," in caption and "Gaussian" not in caption


def test_sweep_trains_what_it_says(with_mnist):
    at = compare_after_denoising_training(epochs=50)  # long enough to be still going after the click
    at.selectbox(key="sweep_noise").set_value("none").run()
    sweep_button(at, "Train a sweep").click().run()
    assert not at.exception, at.exception
    jobs = [job_manager().get(i) for i in at.session_state[state.SWEEP]]
    assert len(jobs) == 6 and not any("denoising" in j.label for j in jobs), [j.label for j in jobs]


def test_buttons_and_sidebar_follow_the_sweep_at_once(with_mnist, monkeypatch):
    monkeypatch.setenv("STUDIO_MAX_JOBS", "1")
    at = compare_after_denoising_training(epochs=50)
    sweep_button(at, "Train a sweep").click().run()
    assert sweep_button(at, "Train a sweep").disabled, "disabled in the run the click caused"
    assert not sweep_button(at, "Cancel the sweep").disabled
    assert at.number_input(key="sweep_epochs").disabled and at.selectbox(key="sweep_noise").disabled
    assert "Sweep:" in sidebar_text(at) and "queued" in sidebar_text(at)
    sweep_button(at, "Cancel the sweep").click().run()
    assert not at.exception, at.exception
    assert "queued" not in sidebar_text(at) and "Sweep:" not in sidebar_text(at), sidebar_text(at)
    assert "Sweep cancelled" in texts(at)
    assert not sweep_button(at, "Train a sweep").disabled
    assert job_manager().active_jobs() == [], "the running job stopped, the queued ones were dropped"


@pytest.mark.timeout(180)
def test_denoisers_are_marked_and_scored_on_noisy_digits(with_mnist):
    at = compare_after_denoising_training()
    sweep_button(at, "Train a sweep").click().run()
    deadline = time.monotonic() + 150
    while at.session_state[state.SWEEP] and time.monotonic() < deadline:
        time.sleep(0.5)
        at.run()
    assert not at.exception, at.exception
    assert not at.session_state[state.SWEEP], "the sweep finished"
    kept = {e.name: e for e in at.session_state[state.USER_MODELS].values()}
    assert len(kept) == 6
    table = at.dataframe[0].value
    rows = table[table["model"].isin(list(kept))]
    assert (rows["trained for"] == "denoising, Gaussian noise 0.3").all()
    for _, row in rows.iterrows():
        entry = kept[row["model"]]
        assert row["test MSE on its task"] == pytest.approx(entry.noisy_test_mse_per_epoch[-1], rel=1e-4), (
            "its own task"
        )
        assert row["denoiser: clean-input MSE"] == pytest.approx(entry.info.test_mse, rel=1e-4)
        assert row["PCA MSE at k, same input"] > 0
    bundled = table[~table["model"].isin(list(kept))]
    assert (bundled["trained for"] == "reconstruction").all() and bundled["denoiser: clean-input MSE"].isna().all()
    traces = {t["name"]: t for t in charts(at)[0]["data"]}
    assert "trained models" not in traces, "denoisers are not plotted as ordinary models"
    denoisers = traces["denoisers (test MSE, noisy digits in)"]
    assert sorted(values(denoisers["x"]).tolist()) == [2, 4, 8, 16, 32, 64]
    assert len(values(traces["PCA, same noisy digits in"]["x"])) == 6

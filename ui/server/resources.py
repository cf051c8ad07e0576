"""Read-only things shared by every session, created once per server (st.cache_resource)."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import streamlit as st
import torch

from model.checkpoint import ModelFileError, load_model
from model.data import Mnist, MnistError, Split, load_mnist_pixels, unit_float
from model.noise import NO_NOISE, noise_name
from model.pca import Pca, fit_pca
from service.engine import EngineUnavailable, get_engine, max_jobs
from service.jobs import JobManager
from service.model_entry import ModelEntry

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "models"
DENOISERS = ASSETS / "denoisers"  # a folder of its own: denoisers stay out of the sidebar and Compare
REPLAY_SIZE = 2000  # fixed test digits whose codes the trainer records each epoch (latent replay)


@st.cache_resource(show_spinner=False)
def configure_torch() -> int:
    """One intra-op thread per job: jobs run side by side, and two OpenMP teams never fight for cores."""
    torch.set_num_threads(1)
    return torch.get_num_threads()


def session_connected(session_id: str) -> bool | None:
    """Whether the Streamlit session is connected; None when no server runtime can tell (tests)."""
    try:
        from streamlit.runtime import Runtime

        return Runtime.instance().is_active_session(session_id) if Runtime.exists() else None
    except Exception:  # an internal API: if it moves, fall back to heartbeats alone
        return None


def session_count() -> int | None:
    """How many sessions the Streamlit server holds, closed ones it has not yet forgotten included; None in tests."""
    try:
        from streamlit.runtime import Runtime

        return Runtime.instance()._session_mgr.num_sessions() if Runtime.exists() else None
    except Exception:  # an internal API: if it moves, memory is handed back when jobs are dropped only
        return None


def current_session_id() -> str:
    """The Streamlit session's own id, so the queue can ask the runtime whether it is still connected."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else "no-session"


@st.cache_resource(show_spinner=False)
def job_manager() -> JobManager:
    """The server's one training queue: as many trainer slots as the engine has worker threads."""
    try:
        slots = get_engine().capacity()
    except EngineUnavailable:  # Start will say why; until then the queue plans for the embedded cluster's size
        slots = 0
    return JobManager(slots or max_jobs(), is_alive=session_connected, session_count=session_count)


@dataclass(frozen=True)
class DataStatus:
    mnist: Mnist | None
    error: str  # the loader's message when mnist is None


def server_mnist(pixels: Mnist) -> Mnist:
    """What the server keeps: test digits as float32 (every page scores on them), training digits as their bytes.

    The server never trains on the training digits in process mode (engine workers load their own); it
    counts them, fits the PCA once, and hands them to thread workers (share_mnist): the uint8 pixels are a
    quarter of the float32 images (47 MB against 188 MB for the real MNIST).
    """
    test = Split(unit_float(pixels.test.images), pixels.test.labels)
    return Mnist(pixels.train, test, pixels.source)


def train_floats(mnist: Mnist) -> torch.Tensor:
    """(N, 784) float32 training images, made for the moment from the server's bytes (the same bits load_mnist gives)."""
    images = mnist.train.images
    return unit_float(images) if images.dtype == torch.uint8 else images


@st.cache_resource(show_spinner="Loading MNIST (once per server)…")
def _load_mnist_cached() -> Mnist:
    return server_mnist(load_mnist_pixels())


MISSING_RETRY_SECONDS = 30.0  # a failed load is believed this long before the next try
_missing: dict[tuple[str, str], tuple[float, DataStatus]] = {}  # (MNIST_DIR, MNIST_CACHE_DIR) -> last failure
_missing_lock = threading.Lock()


def mnist_status() -> DataStatus:
    """MNIST if it loads; otherwise the loader's message.

    A failure is not cached for good, so fixing MNIST_DIR is picked up; but it is believed for 30 s, because
    without MNIST_DIR each try is a download attempt (seconds) and the Draw page reruns on every stroke.
    """
    where = (os.environ.get("MNIST_DIR", ""), os.environ.get("MNIST_CACHE_DIR", ""))
    with _missing_lock:
        known = _missing.get(where)
    if known is not None and time.monotonic() - known[0] < MISSING_RETRY_SECONDS:
        return known[1]
    try:
        status = DataStatus(_load_mnist_cached(), "")
    except MnistError as exc:
        status = DataStatus(None, str(exc))
    with _missing_lock:
        if status.mnist is None:
            _missing[where] = (time.monotonic(), status)
        else:
            _missing.pop(where, None)
    return status


@dataclass(frozen=True)
class Reference:
    pca: Pca
    test_mse_curve: torch.Tensor  # (784,) PCA test MSE at k = 1..784
    replay_index: torch.Tensor  # (REPLAY_SIZE,) fixed test digits for the latent replay
    sample_index: torch.Tensor  # (10,) one test digit of each class, shown while training


@st.cache_resource(show_spinner="Computing PCA of the training set (once per server)…")
def _reference(_mnist: Mnist, source: str) -> Reference:
    pca = fit_pca(train_floats(_mnist))  # the float copy is freed when this returns
    curve = pca.mse_curve(_mnist.test.images)
    gen = torch.Generator().manual_seed(0)
    replay = torch.randperm(len(_mnist.test), generator=gen)[:REPLAY_SIZE]
    labels = _mnist.test.labels
    samples = torch.stack([torch.nonzero(labels == d)[0, 0] for d in range(10) if (labels == d).any()])
    return Reference(pca, curve, replay, samples)


def reference(mnist: Mnist) -> Reference:
    """PCA of the training set, its test-error curve, and the fixed digit subsets."""
    return _reference(mnist, mnist.source)


@st.cache_resource(show_spinner=False)
def bundled_models() -> tuple[ModelEntry, ...]:
    """The pretrained defaults in assets/models, so drawing works before anyone trains."""
    entries = []
    for path in sorted(ASSETS.glob("*.safetensors"), key=lambda p: (len(p.stem), p.stem)):
        try:
            model, info = load_model(path)
        except ModelFileError:
            continue  # a damaged asset must not take the app down; the others still load
        name = f"Bundled: {info.name or path.stem}"
        entries.append(ModelEntry(name=name, model=model, info=info, source="bundled"))
    return tuple(entries)


def denoiser_name(kind: str, level: float, latent_dim: int) -> str:
    """'Bundled denoiser for Gaussian noise (k=32, level 0.3)', built from the settings, not the file's text."""
    return f"Bundled denoiser for {noise_name(kind)} noise (k={latent_dim}, level {level:g})"


@st.cache_resource(show_spinner=False)
def bundled_denoisers() -> dict[str, ModelEntry]:
    """The pretrained denoisers in assets/models/denoisers, one per noise type, keyed by that type."""
    found: dict[str, ModelEntry] = {}
    for path in sorted(DENOISERS.glob("*.safetensors")):
        try:
            model, info = load_model(path)
        except ModelFileError:
            continue  # as for the plain models: a damaged asset leaves the others working
        config = info.config
        if config is None or config.noise == NO_NOISE or config.noise in found:
            continue  # not a denoiser, or a second one for the same noise: the first (by name) wins
        name = denoiser_name(config.noise, config.noise_level, model.latent_dim)
        found[config.noise] = ModelEntry(name=name, model=model, info=info, source="bundled")
    return found

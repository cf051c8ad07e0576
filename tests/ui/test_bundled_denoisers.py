"""The bundled denoisers: one per noise type, trained at the Denoise page's default level, small files; and,
on the real MNIST, better than both the noisy input and PCA where a participant first looks."""

from __future__ import annotations

import os
import subprocess

import pytest
import torch

from model.data import ENV_VAR, Mnist, load_mnist
from model.noise import NOISES
from model.pca import Pca, fit_pca
from model.scoring import denoise_rows
from service.model_entry import ModelEntry
from ui.server import resources
from ui.server.resources import DENOISERS, bundled_denoisers

MAX_FILE_BYTES = 1_000_000
FIRST_DIGITS = 100  # the target is measured over the first 100 test digits
PAGE_SEED = 0  # the Denoise page's default seed

needs_mnist = pytest.mark.skipif(
    not os.environ.get(ENV_VAR),
    reason=f"needs the real MNIST: set {ENV_VAR} to a folder with its four IDX files (CI uses ../shared/data/mnist)",
)


@pytest.fixture(scope="module")
def denoisers() -> dict[str, ModelEntry]:
    return bundled_denoisers()


def test_one_denoiser_per_noise_type_at_the_default_level(denoisers: dict[str, ModelEntry]) -> None:
    assert sorted(denoisers) == sorted(NOISES)
    for kind, entry in denoisers.items():
        config = entry.info.config
        assert config is not None and config.noise == kind
        assert config.noise_level == NOISES[kind].default_level, "the page opens each noise type at its training level"
        assert entry.latent_dim >= 32
        assert entry.name.startswith("Bundled denoiser for ") and f"level {NOISES[kind].default_level:g})" in entry.name


def test_a_damaged_or_plain_file_in_the_folder_is_passed_over(tmp_path, monkeypatch) -> None:
    """One bad file must not take the page's denoisers down, and a plain model is no denoiser."""
    for kind in ("gaussian", "block"):
        (tmp_path / f"k32-{kind}.safetensors").write_bytes((DENOISERS / f"k32-{kind}.safetensors").read_bytes())
    (tmp_path / "k32-dropout.safetensors").write_bytes(b"not a model")
    (tmp_path / "plain.safetensors").write_bytes((DENOISERS.parent / "k8.safetensors").read_bytes())
    monkeypatch.setattr(resources, "DENOISERS", tmp_path)
    bundled_denoisers.clear()
    try:
        assert sorted(bundled_denoisers()) == ["block", "gaussian"]
    finally:
        bundled_denoisers.clear()


def test_denoiser_files_are_small_in_the_work_tree_and_in_git() -> None:
    paths = sorted(DENOISERS.glob("*.safetensors"))
    assert len(paths) == len(NOISES)
    for path in paths:
        assert path.stat().st_size < MAX_FILE_BYTES, path
        blob = subprocess.run(
            ["git", "rev-parse", f"HEAD:{path.relative_to(DENOISERS.parents[2]).as_posix()}"],
            capture_output=True,
            text=True,
            cwd=DENOISERS,
        )
        if blob.returncode == 0:  # committed: the stored object must be small too
            size = subprocess.run(["git", "cat-file", "-s", blob.stdout.strip()], capture_output=True, text=True)
            assert int(size.stdout) < MAX_FILE_BYTES, path


@pytest.fixture(scope="module")
def mnist() -> Mnist:
    return load_mnist(os.environ[ENV_VAR])


@pytest.fixture(scope="module")
def pca(mnist: Mnist) -> Pca:
    return fit_pca(mnist.train.images)


def errors(denoiser: ModelEntry, pca: Pca, clean: torch.Tensor, kind: str) -> dict[str, float]:
    """The page's own rows at the default level and seed: noisy input, denoiser, PCA at the denoiser's k."""
    rows = denoise_rows(denoiser.model, pca, clean, kind, NOISES[kind].default_level, PAGE_SEED, "denoiser")
    return {row.label.split(",")[0]: row.mse for row in rows[1:]}  # Clean has no error


@pytest.mark.mnist
@needs_mnist
@pytest.mark.parametrize("kind", list(NOISES))
def test_denoiser_beats_the_noisy_input_and_pca_on_the_first_100_test_digits(
    denoisers: dict[str, ModelEntry], mnist: Mnist, pca: Pca, kind: str
) -> None:
    mse = errors(denoisers[kind], pca, mnist.test.images[:FIRST_DIGITS], kind)
    assert mse["denoiser"] < mse["Noisy input"], mse
    assert mse["denoiser"] < mse["PCA projection"], mse


@pytest.mark.mnist
@needs_mnist
def test_denoiser_beats_both_on_the_default_view(denoisers: dict[str, ModelEntry], mnist: Mnist, pca: Pca) -> None:
    """A fresh page: test digit 0 with Gaussian noise at 0.3 (it read noisy 0.0514, plain model 0.0527)."""
    mse = errors(denoisers["gaussian"], pca, mnist.test.images[:1], "gaussian")
    assert mse["denoiser"] < mse["Noisy input"] and mse["denoiser"] < mse["PCA projection"], mse

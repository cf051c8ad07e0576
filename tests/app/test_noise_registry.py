"""A new noise type is one NOISES entry: registered here as a dummy, it is offered on Denoise and Train, and
the Denoise page corrupts, scores and describes digits with it, all without any other edit."""

from __future__ import annotations

import pytest
import torch

from model import noise
from model.__main__ import build_parser, config_from_args
from model.noise import Noise
from tests.app.conftest import open_page, texts

DENOISE = "app_pages/denoise.py"
TRAIN = "app_pages/train.py"
DUMMY = Noise("Inverted (mix with the negative)", "inverted", 0.45, lambda x, level, gen: x + level * (1 - 2 * x))


@pytest.fixture
def dummy_noise(monkeypatch) -> str:
    """The registry with one more kind, 'inverted', for this test only."""
    monkeypatch.setitem(noise.NOISES, "inverted", DUMMY)
    return "inverted"


def test_a_registered_noise_is_offered_and_used_on_the_denoise_page(with_mnist, dummy_noise):
    at = open_page(DENOISE)
    assert not at.exception, at.exception
    kind = at.selectbox(key="denoise_kind")
    assert DUMMY.label in kind.options and len(kind.options) == len(noise.NOISES)
    kind.set_value(dummy_noise).run()
    assert not at.exception, at.exception
    assert at.slider(key=f"denoise_level_{dummy_noise}").value == DUMMY.default_level
    # No bundled denoiser exists for it: the active model cleans up, and the curve is captioned with its label.
    assert not [r for r in at.radio if r.key == "denoise_with"]
    assert f"{DUMMY.label}: mean squared error" in texts(at)
    captions = [c.value for c in at.caption if c.value.startswith("MSE ")]
    assert len(captions) == 3, "noisy input, the active model and PCA each have their error"


def test_a_registered_noise_is_offered_for_training_and_by_the_cli(with_mnist, dummy_noise):
    at = open_page(TRAIN)
    at.toggle(key="train_denoise").set_value(True).run()
    assert DUMMY.label in at.selectbox(key="train_noise").options
    at.selectbox(key="train_noise").set_value(dummy_noise).run()
    assert not at.exception, at.exception
    captions = [img.caption for e in at.get("image") for img in e.proto.imgs]
    assert any("Middle: with the inverted noise (level 0.3)" in c for c in captions), captions
    config = config_from_args(build_parser().parse_args(["--noise", dummy_noise, "--noise-level", "0.5"]))
    assert (config.noise, config.noise_level) == (dummy_noise, 0.5)
    x = torch.full((2, 784), 0.25)
    assert torch.allclose(noise.add_noise(x, dummy_noise, 0.5, seed=0), torch.full((2, 784), 0.5))

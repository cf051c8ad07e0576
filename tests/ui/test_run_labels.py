"""Run descriptions name every setting, noise included."""

from __future__ import annotations

from model.config import TrainConfig
from ui.run_labels import noise_text, plural, run_title, settings_text


def test_plural() -> None:
    assert plural(1, "epoch") == "1 epoch" and plural(5, "epoch") == "5 epochs"


def test_run_title_names_k_epochs_and_noise() -> None:
    assert run_title(TrainConfig(latent_dim=8, epochs=1)) == "k = 8, 1 epoch, no noise"
    denoiser = TrainConfig(noise="salt_pepper", noise_level=0.2)
    assert run_title(denoiser) == "k = 32, 10 epochs, denoising, salt and pepper noise 0.2"


def test_settings_text_states_every_setting() -> None:
    cfg = TrainConfig(activation="relu", epochs=3, batch_size=64, lr=0.002, schedule="constant", seed=7)
    text = settings_text(cfg.with_(noise="gaussian", noise_level=0.3, max_seconds=5))
    for part in (
        "ReLU",
        "3 epochs",
        "batch 64",
        "learning rate 0.002 (constant)",
        "seed 7",
        "Gaussian noise 0.3",
        "5 s",
    ):
        assert part in text, (part, text)
    assert noise_text("none", 0.0) in settings_text(cfg)

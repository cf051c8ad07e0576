"""How a model's test error is worded in messages: a denoiser's comes twice, noisy digits first."""

from __future__ import annotations

from model.autoencoder import LinearAutoencoder
from model.checkpoint import ModelInfo
from model.config import TrainConfig
from service.model_entry import ModelEntry


def entry(test_mse: float | None, noisy: tuple[float, ...] = ()) -> ModelEntry:
    config = TrainConfig(latent_dim=4, noise="gaussian" if noisy else "none", noise_level=0.3 if noisy else 0.0)
    info = ModelInfo(4, "none", 2, test_mse, config, "k=4", 1.0)
    return ModelEntry("k=4", LinearAutoencoder(4), info, "trained", noisy_test_mse_per_epoch=noisy)


def test_plain_model_reports_one_test_error() -> None:
    assert entry(0.01234).test_mse_text() == "test MSE 0.0123"
    assert entry(None).test_mse_text() == "test MSE n/a"


def test_denoiser_reports_its_last_noisy_error_then_the_clean_one() -> None:
    text = entry(0.0726, noisy=(0.03, 0.014)).test_mse_text()
    assert text == "test MSE 0.0140 for noisy digits, 0.0726 for clean ones"


def test_summary_line_carries_the_same_wording() -> None:
    assert entry(0.0095).summary() == "k=4 · linear · 2 epochs · test MSE 0.0095"
    assert entry(0.0726, noisy=(0.014,)).summary().endswith("test MSE 0.0140 for noisy digits, 0.0726 for clean ones")


def test_linear_output_models_say_so_in_their_name_and_summary() -> None:
    from service.model_entry import readable_name

    info = ModelInfo(4, "none", 2, 0.02, TrainConfig(latent_dim=4, output="linear"), "k=4", 1.0, output="linear")
    lin = ModelEntry("k=4", LinearAutoencoder(4, output="linear"), info, "trained")
    assert lin.summary() == "k=4 · linear · linear output · 2 epochs · test MSE 0.0200"
    assert readable_name(32, "none", 10, set(), output="linear") == "k=32 linear, linear output, 10 epochs"
    assert readable_name(32, "none", 10, set()) == "k=32 linear, 10 epochs"  # sigmoid names stay as they were


def test_unique_name_counts_up_from_two():
    from service.model_entry import unique_name

    assert unique_name("m", set()) == "m"
    assert unique_name("m", {"m", "m (2)"}) == "m (3)"

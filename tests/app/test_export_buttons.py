"""AppTest: a trained model on the Train page offers its script and notebook beside its model file."""

from __future__ import annotations

from model.autoencoder import LinearAutoencoder
from model.checkpoint import ModelInfo
from model.config import TrainConfig
from service.model_entry import ModelEntry
from tests.app.conftest import open_page, texts
from ui.session import state

TRAIN = "app_pages/train.py"


def trained(name: str, config: TrainConfig) -> ModelEntry:
    info = ModelInfo(config.latent_dim, config.activation, 2, 0.03, config, name, 1.0)
    return ModelEntry(name, LinearAutoencoder(config.latent_dim, config.activation), info, "trained")


def with_models(*entries: ModelEntry):
    at = open_page(TRAIN)
    at.session_state[state.USER_MODELS] = {e.name: e for e in entries}
    at.session_state[state.ACTIVE_MODEL] = entries[-1].name
    return at.run()


def test_a_trained_model_has_script_and_notebook_downloads(with_mnist):
    at = with_models(trained("k=4 ReLU, 2 epochs", TrainConfig.classic(latent_dim=4, epochs=2)))
    assert not at.exception, at.exception
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["Download", "Python script", "Notebook"]
    assert [b.proto.url.rsplit(".", 1)[-1] for b in at.get("download_button")][1] == "py"
    assert "plain PyTorch code (torch and torchvision only)" in texts(at)


def test_a_model_whose_settings_cannot_be_exported_says_why(with_mnist):
    odd = trained("odd seed", TrainConfig.from_dict({"latent_dim": 3, "seed": "1; import os"}))
    at = with_models(trained("k=4 linear, 2 epochs", TrainConfig(latent_dim=4, epochs=2)), odd)
    assert not at.exception, at.exception
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["Download", "Download", "Python script", "Notebook"], "the other model keeps its exports"
    assert "This model cannot be exported: its seed must be a whole number, got '1; import os'." in texts(at)

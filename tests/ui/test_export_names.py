"""File names of a model's exported script and notebook: its safe file stem, with the right suffix."""

from __future__ import annotations

from model.autoencoder import LinearAutoencoder
from model.checkpoint import ModelInfo
from model.config import TrainConfig
from service.model_entry import ModelEntry
from ui.widgets.model_files import _exports, export_names, file_name


def entry(name: str, config: TrainConfig | None = None) -> ModelEntry:
    info = ModelInfo(4, "none", 2, 0.02, config or TrainConfig(latent_dim=4, epochs=2), name, 1.0)
    return ModelEntry(name, LinearAutoencoder(4), info, "trained")


def test_exports_are_named_after_the_model_file() -> None:
    model = entry("k=32 ReLU, 5 epochs (2)")
    assert export_names(model) == ("k-32-relu-5-epochs-2.py", "k-32-relu-5-epochs-2.ipynb")
    assert file_name(model) == "k-32-relu-5-epochs-2.safetensors"


def test_a_hostile_name_gives_a_plain_file_name() -> None:
    script, notebook = export_names(entry('Uploaded: ../../x"; rm -rf ~\n.py'))
    assert script == "uploaded-x-rm-rf-py.py" and notebook == "uploaded-x-rm-rf-py.ipynb"
    assert export_names(entry("%%%")) == ("model.py", "model.ipynb")


def test_exports_are_made_once_per_model_or_say_why_not() -> None:
    model = entry("k=4 linear, 2 epochs")
    script, notebook = _exports(model.info)
    assert script.startswith('"""A linear autoencoder on MNIST') and '"nbformat": 4' in notebook
    assert _exports(model.info)[0] is script, "cached: a rerun does not rebuild them"
    odd = entry("odd", TrainConfig.from_dict({"latent_dim": 4, "seed": "7"}))
    assert _exports(odd.info) == "This model cannot be exported: its seed must be a whole number, got '7'."

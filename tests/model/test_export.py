"""The exported script and notebook: they run, train the same model from the same start, and stay code-safe."""

from __future__ import annotations

import ast
import json
import os
import re
import runpy
import subprocess
import sys
from dataclasses import asdict, fields
from pathlib import Path

import nbformat
import pytest
import torch

from model.autoencoder import LinearAutoencoder
from model.checkpoint import ModelInfo
from model.config import TrainConfig
from model.data import ENV_VAR, load_mnist, place_files
from model.export import SETTING_NOTES, ExportError, export_config, export_notebook, export_script, literal
from model.noise import add_noise, noise_kinds
from model.train import Trainer, init_weights
from tests.conftest import make_idx_dataset

FINAL = re.compile(r"^final test MSE (\d+\.\d+)", re.MULTILINE)
EVIL_NAME = 'k=32 """\nimport os; os.system("touch PWNED")\n\'\'\' \\ "; raise SystemExit(3) #'
CONFIGS = {
    "sigmoid default": TrainConfig(epochs=3),
    "classic tutorial": TrainConfig.classic(),
    "watch PCA (linear output)": TrainConfig.watch_pca(),
    "uniform bias, seed 7": TrainConfig(latent_dim=5, bias_init="uniform", seed=7, schedule="constant"),
    **{f"denoiser ({kind})": TrainConfig(noise=kind, noise_level=0.3) for kind in noise_kinds()[1:]},
}


def info_for(config: TrainConfig | None, name: str = "k=32 linear, 3 epochs", k: int = 32) -> ModelInfo:
    k = config.latent_dim if config else k
    activation, output = (config.activation, config.output) if config else ("none", "sigmoid")
    return ModelInfo(k, activation, 3, 0.0123, config, name, 1.0, output=output)


def run_script(code: str, args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture) -> str:
    """Run exported code as `python script.py args` in this process (torch is imported once); return stdout."""
    path = tmp_path / "exported.py"
    path.write_text(code)
    argv = sys.argv
    sys.argv = [str(path), *args]
    try:
        runpy.run_path(str(path), run_name="__main__")
    finally:
        sys.argv = argv
    return capsys.readouterr().out


def printed_settings(out: str) -> TrainConfig:
    line = next(line for line in out.splitlines() if line.startswith("settings: "))
    return TrainConfig(**json.loads(line.removeprefix("settings: ")))


def final_mse(out: str) -> float:
    match = FINAL.search(out)
    assert match, out
    return float(match.group(1))


def script_names(code: str, tmp_path: Path) -> dict:
    """The exported script's top-level names, imported without running main()."""
    path = tmp_path / "exported_module.py"
    path.write_text(code)
    return runpy.run_path(str(path), run_name="exported")


def test_every_setting_of_a_run_is_exported():
    assert set(SETTING_NOTES) == {f.name for f in fields(TrainConfig)}, "model.export.SETTING_NOTES lacks a field"


def test_script_runs_standalone_in_a_fresh_python(tmp_path):
    """A separate interpreter in isolated mode, outside the repository: only torch and torchvision are at hand."""
    config = CONFIGS["sigmoid default"]
    script = tmp_path / "k-32-linear.py"
    script.write_text(export_script(info_for(config)))
    done = subprocess.run(
        [sys.executable, "-I", str(script), "--epochs", "1", "--fake-data", "64"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert printed_settings(done.stdout) == config.with_(epochs=1)
    assert re.search(r"^epoch 1/1: test MSE \d+\.\d+$", done.stdout, re.MULTILINE), done.stdout
    assert 0.0 < final_mse(done.stdout) < 1.0
    assert "the studio's run: 0.012300 after 3 epochs" in done.stdout


@pytest.mark.parametrize("label", list(CONFIGS))
def test_every_kind_of_model_exports_and_trains(label, tmp_path, capsys):
    config = CONFIGS[label]
    code = export_script(info_for(config))
    assert script_names(code, tmp_path)["SETTINGS"] == asdict(config)
    out = run_script(code, ["--epochs", "1", "--fake-data", "64"], tmp_path, capsys)
    assert printed_settings(out) == config.with_(epochs=1)
    assert 0.0 < final_mse(out) < 1.0
    if config.noise != "none":
        assert re.search(r"^final test MSE \d+\.\d+ for noisy digits, \d+\.\d+ for clean ones", out, re.M), out
        assert "def corrupt" in code
    else:
        assert "corrupt(" not in code, "a plain model's script has no noise code"


@pytest.mark.parametrize("label", ["sigmoid default", "watch PCA (linear output)", "uniform bias, seed 7"])
def test_script_starts_from_the_studios_weights(label, tmp_path, digits):
    config = CONFIGS[label]
    names = script_names(export_script(info_for(config)), tmp_path)
    train_images, _ = digits
    exported = names["init_weights"](
        names["Autoencoder"](config.latent_dim, config.activation, config.output), config.seed, train_images
    )
    mean = train_images.mean(dim=0) if config.bias_init == "mean" else None
    studio = init_weights(LinearAutoencoder(config.latent_dim, config.activation, config.output), config.seed, mean)
    for name, value in studio.state_dict().items():
        assert torch.equal(exported.state_dict()[name], value), name
    x = train_images[:8]
    assert torch.allclose(exported(x), studio(x), atol=1e-6), "the same forward pass"


@pytest.mark.parametrize("kind", noise_kinds()[1:])
def test_script_corrupts_digits_as_the_studio_does(kind, tmp_path, digits):
    config = TrainConfig(noise=kind, noise_level=0.35)
    corrupt = script_names(export_script(info_for(config)), tmp_path)["corrupt"]
    x = digits[0][:50]
    expected = add_noise(x, kind, 0.35, generator=torch.Generator().manual_seed(5))
    assert torch.equal(corrupt(x, torch.Generator().manual_seed(5)), expected)


@pytest.mark.parametrize("config", [TrainConfig(epochs=4), TrainConfig(schedule="constant", lr=0.003)])
def test_script_learning_rate_follows_the_studios_schedule(config, tmp_path, digits):
    learning_rate = script_names(export_script(info_for(config)), tmp_path)["learning_rate"]
    trainer = Trainer(config, *digits)
    for step in (0, 1, trainer.total_steps // 3, trainer.total_steps - 1):
        assert learning_rate(step, trainer.total_steps, 0.0) == pytest.approx(trainer._lr_at(step, 0.0), rel=1e-12)


def test_notebook_validates_and_its_code_runs_with_papermill_style_parameters(tmp_path, capsys):
    config = CONFIGS["classic tutorial"]
    notebook = nbformat.reads(export_notebook(info_for(config)), as_version=4)
    nbformat.validate(notebook)
    assert notebook.nbformat == 4
    kinds = [cell.cell_type for cell in notebook.cells]
    assert kinds.count("markdown") >= 5 and kinds.count("code") >= 5
    assert notebook.cells[0].source.startswith("# A linear autoencoder on MNIST")
    cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    where = next(i for i, cell in enumerate(cells) if "parameters" in cell.metadata.get("tags", []))
    assert "FAKE_DATA = 0" in cells[where].source
    code = [cell.source for cell in cells]
    code.insert(where + 1, "EPOCHS = 1\nFAKE_DATA = 64")  # what papermill does with a "parameters" cell
    path = tmp_path / "notebook_code.py"
    path.write_text("\n\n".join(code))
    names = runpy.run_path(str(path), run_name="__main__")
    out = capsys.readouterr().out
    assert printed_settings(out) == config.with_(epochs=1)
    assert 0.0 < final_mse(out) < 1.0
    assert isinstance(names["model"], torch.nn.Module)
    assert names["SETTINGS"] == asdict(config)


def test_a_name_from_a_file_cannot_inject_code(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    plain, evil = (export_script(info_for(CONFIGS["sigmoid default"], name)) for name in ("plain", EVIL_NAME))
    plain_tree, evil_tree = ast.parse(plain), ast.parse(evil)
    assert len(evil_tree.body) == len(plain_tree.body), "no statement was added"
    names = script_names(evil, tmp_path)
    assert names["MODEL_NAME"] == EVIL_NAME, "the name is one string literal, intact"
    out = run_script(evil, ["--epochs", "1", "--fake-data", "16"], tmp_path, capsys)
    assert final_mse(out) > 0 and not (tmp_path / "PWNED").exists()
    notebook = nbformat.reads(export_notebook(info_for(CONFIGS["sigmoid default"], EVIL_NAME)), as_version=4)
    markdown = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    assert "PWNED" not in markdown and "raise SystemExit" not in markdown
    settings_cell = next(cell.source for cell in notebook.cells if "MODEL_NAME =" in cell.source)
    assert runpy.run_path(_write(tmp_path / "cell.py", settings_cell))["MODEL_NAME"] == EVIL_NAME


def _write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


def test_settings_that_are_not_plain_values_are_refused():
    assert literal(0.001) == "0.001" and literal(None) == "None" and literal("a'b") == "\"a'b\""
    for bad in (float("nan"), float("inf"), [1], object()):
        with pytest.raises(ExportError):
            literal(bad)
    odd_seed = TrainConfig.from_dict({"seed": "0\nimport os"})  # TrainConfig does not check the seed's type
    with pytest.raises(ExportError, match="seed must be a whole number"):
        export_script(info_for(odd_seed))


def test_a_file_without_settings_exports_the_defaults_around_its_weights():
    config = export_config(ModelInfo(12, "relu", 5, None, None, "uploaded", output="linear"))
    assert config == TrainConfig(latent_dim=12, activation="relu", output="linear", epochs=5)
    code = export_script(info_for(None, k=12))
    assert "'latent_dim': 12," in code and "'test_mse': 0.0123" in code


def test_the_weights_decide_the_architecture_over_recorded_settings():
    info = ModelInfo(8, "relu", 2, None, TrainConfig(latent_dim=3), "x", output="linear")
    assert export_config(info) == TrainConfig(latent_dim=8, activation="relu", output="linear")


def test_script_reads_mnist_in_torchvisions_layout_and_explains_when_it_is_missing(tmp_path, capsys):
    make_idx_dataset(tmp_path / "idx", n_train=300, n_test=100)
    root = place_files(tmp_path / "idx", tmp_path / "mnist")  # -> mnist/MNIST/raw/<uncompressed files>
    code = export_script(info_for(TrainConfig(latent_dim=4, epochs=2)))
    out = run_script(code, ["--data-dir", str(root), "--epochs", "1"], tmp_path, capsys)
    assert 0.0 < final_mse(out) < 0.2, "generated digits are learnable"
    with pytest.raises(SystemExit) as exit_info:
        run_script(code, ["--data-dir", str(tmp_path / "nowhere")], tmp_path, capsys)
    message = str(exit_info.value.code)
    assert "MNIST was not found in" in message and "nowhere" in message and "--download" in message


@pytest.mark.mnist
@pytest.mark.skipif(not os.environ.get(ENV_VAR), reason=f"needs the real MNIST: set {ENV_VAR}")
def test_one_exported_epoch_on_real_mnist_scores_like_the_studios_first(tmp_path, capsys):
    """Same model, start and settings; only the batch order differs, so the first epoch's error is close."""
    config = TrainConfig(latent_dim=32, epochs=1)
    root = place_files(Path(os.environ[ENV_VAR]), tmp_path / "mnist")
    out = run_script(export_script(info_for(config)), ["--data-dir", str(root)], tmp_path, capsys)
    exported = final_mse(out)
    mnist = load_mnist(os.environ[ENV_VAR], root=root)  # the files placed above
    studio = Trainer(config, mnist.train.images, mnist.test.images).run().final_test_mse
    sys.stderr.write(f"\nreal MNIST, k=32, 1 epoch: exported script {exported:.5f}, studio trainer {studio:.5f}\n")
    assert studio is not None and abs(exported - studio) < 0.3 * studio, (exported, studio)

"""The command line: a short run on generated data prints a JSON summary and saves a loadable model."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from model.__main__ import build_parser, config_from_args, main
from model.checkpoint import load_model
from model.config import TrainConfig
from model.data import ENV_VAR
from model.train import evaluate_mse
from tests.conftest import make_idx_dataset

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def private_copies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Copies of the generated MNIST go under tmp_path, not into the repository's data/ folder."""
    monkeypatch.setenv("MNIST_CACHE_DIR", str(tmp_path / "copies"))
    monkeypatch.delenv(ENV_VAR, raising=False)


def last_json_line(out: str) -> dict:
    lines = [line for line in out.splitlines() if line.strip()]
    assert lines, "nothing on stdout"
    return json.loads(lines[-1])


def test_short_run_prints_summary_and_saves_model(idx_dataset, tmp_path: Path, capsys) -> None:
    folder, arrays = idx_dataset
    out = tmp_path / "models" / "k4.safetensors"
    argv = ["--data-dir", str(folder), "--epochs", "1", "--latent-dim", "4", "--no-progress", "--out", str(out)]
    assert main(argv) == 0
    captured = capsys.readouterr()
    summary = last_json_line(captured.out)
    assert summary["latent_dim"] == 4 and summary["activation"] == "none"
    assert summary["status"] == "done"
    assert summary["epochs"] == 1 and summary["epochs_fraction"] == 1.0
    assert summary["batch_size"] == 256 and summary["steps"] == 2  # 300 images: 256 + 44
    assert summary["seconds"] > 0 and summary["samples_per_second"] > 0
    for key in ("test_mse", "pca_test_mse"):
        assert isinstance(summary[key], float) and math.isfinite(summary[key]) and 0 < summary[key] < 0.25
    assert summary["noisy_test_mse"] is None  # not a denoising run
    assert summary["out"] == str(out)
    assert "Traceback" not in captured.err

    model, info = load_model(out)
    assert (model.latent_dim, model.activation) == (4, "none")
    assert info.epochs == 1 and info.config is not None and info.config.latent_dim == 4
    assert info.test_mse == pytest.approx(summary["test_mse"])
    test_images = torch.from_numpy(arrays["test_images"]).reshape(-1, 784).float() / 255.0
    assert evaluate_mse(model, test_images) == pytest.approx(summary["test_mse"], rel=1e-5)


def test_a_denoising_run_also_reports_its_error_on_noisy_test_digits(idx_dataset, capsys) -> None:
    folder, arrays = idx_dataset
    argv = ["--data-dir", str(folder), "--epochs", "1", "--latent-dim", "4", "--no-progress"]
    assert main([*argv, "--noise", "gaussian", "--noise-level", "0.5", "--seed", "2"]) == 0
    summary = last_json_line(capsys.readouterr().out)
    assert isinstance(summary["noisy_test_mse"], float) and 0 < summary["noisy_test_mse"] < 0.25
    assert summary["noisy_test_mse"] != pytest.approx(summary["test_mse"], rel=1e-3)


def test_a_run_no_better_than_the_average_digit_is_flagged(idx_dataset, capsys) -> None:
    folder, _ = idx_dataset
    argv = ["--data-dir", str(folder), "--epochs", "1", "--latent-dim", "4", "--no-progress"]
    assert main([*argv, "--lr", "0", "--bias-init", "uniform"]) == 0  # grey outputs that never change
    captured = capsys.readouterr()
    assert last_json_line(captured.out)["stuck"] is True
    assert "warning: Training looks stuck" in captured.err and "learning rate above 0" in captured.err
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert last_json_line(captured.out)["stuck"] is False and "warning" not in captured.err


def test_progress_bar_goes_to_stderr(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "mnist"
    make_idx_dataset(folder, n_train=100, n_test=20, compress=True)
    assert main(["--data-dir", str(folder), "--epochs", "2", "--latent-dim", "2", "--batch-size", "10"]) == 0
    captured = capsys.readouterr()
    assert "step" in captured.err  # tqdm's bar
    summary = last_json_line(captured.out)
    assert summary["steps"] == 20 and "out" not in summary


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["--latent-dim", "0"], "1 to 784"),
        (["--latent-dim", "785"], "1 to 784"),
        (["--epochs", "0"], "Epochs"),
        (["--noise", "gaussian", "--noise-level", "3"], "between 0 and 1"),
        (["--max-seconds", "-1"], "time budget"),
    ],
)
def test_invalid_settings_exit_2_with_a_message(args: list[str], match: str, capsys) -> None:
    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("error: ") and match in captured.err
    assert "Traceback" not in captured.err
    assert captured.out == ""


def test_missing_data_exits_1_naming_mnist_dir(tmp_path: Path, capsys) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["--data-dir", str(empty), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and ENV_VAR in err and str(empty) in err


def test_argparse_refuses_non_numbers(capsys) -> None:
    with pytest.raises(SystemExit) as excinfo:
        main(["--latent-dim", "x"])
    assert excinfo.value.code == 2
    assert "invalid int value" in capsys.readouterr().err


def test_config_from_args() -> None:
    parse = build_parser().parse_args
    assert config_from_args(parse([])) == TrainConfig()
    assert config_from_args(parse(["--classic", "--latent-dim", "8"])) == TrainConfig.classic(latent_dim=8)
    config = config_from_args(
        parse(["--activation", "relu", "--epochs", "3", "--batch-size", "10", "--lr", "0.1", "--seed", "4"])
    )
    assert (config.activation, config.epochs, config.batch_size, config.lr, config.seed) == ("relu", 3, 10, 0.1, 4)
    denoise = config_from_args(parse(["--noise", "dropout", "--noise-level", "0.3", "--max-seconds", "5"]))
    assert (denoise.noise, denoise.noise_level, denoise.max_seconds) == ("dropout", 0.3, 5.0)
    assert config_from_args(parse(["--bias-init", "uniform"])).bias_init == "uniform"


@pytest.mark.parametrize("module", ["model", "model.train"])
def test_python_dash_m_model_train_reports_errors_without_traceback(module: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", module, "--latent-dim", "0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "1 to 784" in result.stderr and "Traceback" not in result.stderr


def test_output_linear_trains_and_saves_a_linear_output_model(idx_dataset, tmp_path: Path, capsys) -> None:
    folder, _ = idx_dataset
    out = tmp_path / "lin.safetensors"
    argv = ["--data-dir", str(folder), "--epochs", "1", "--latent-dim", "4", "--output", "linear", "--no-progress"]
    assert main([*argv, "--out", str(out)]) == 0
    summary = last_json_line(capsys.readouterr().out)
    assert summary["output"] == "linear" and summary["status"] == "done"
    model, info = load_model(out)
    assert model.output == "linear" and info.output == "linear" and info.config.output == "linear"
    assert "linear output" in info.name
    parse = build_parser().parse_args
    assert config_from_args(parse([])).output == "sigmoid"
    assert config_from_args(parse(["--classic", "--output", "linear"])) == TrainConfig.classic(output="linear")
    with pytest.raises(SystemExit):
        parse(["--output", "tanh"])

"""A trained model's recipe as a standalone PyTorch script or Jupyter notebook, to train it again anywhere.

The exported code is the classic loop (DataLoader, nn.Linear, MSE, torch.optim.Adam), not the studio's fast
trainer, so that it reads like a tutorial. It rebuilds the same model, initial weights and training settings;
only the order of the batches differs. Values from a model file become Python literals through repr(), never
pasted text, so no name or setting in a file can add code to the export.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import asdict

from model.checkpoint import ModelInfo
from model.config import MAX_EPOCHS, TrainConfig

COMMENT_WIDTH = 100  # the script's comment lines, wrapped

# One comment per setting, in the order the exported SETTINGS lists them; a TrainConfig field missing here
# fails tests/model/test_export.py, so a new setting cannot be left out of the exports unnoticed.
SETTING_NOTES = {
    "latent_dim": "k, the size of the code",
    "activation": '"none": a purely linear encoder; "relu": the classic tutorial\'s',
    "output": '"sigmoid": pixels squashed into [0, 1]; "linear": the PCA theorem\'s model',
    "bias_init": '"mean": the untrained model outputs the average digit; "uniform": PyTorch\'s default',
    "epochs": "passes over the training set",
    "batch_size": "images per step",
    "lr": "Adam's (peak) learning rate",
    "schedule": '"cosine": the learning rate decays to zero over the run; "constant"',
    "seed": "seeds the initial weights, the shuffling and any noise",
    "noise": '"none", or the corruption a denoiser learns to undo',
    "noise_level": "how strong that corruption is, in [0, 1]",
    "max_seconds": "time budget in seconds (None: none); the cosine decay then follows time as well",
}

_IMPORTS = """\
import argparse
import json
import math
import sys
import time
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from torchvision import datasets
"""

_DATA = '''\
PIXELS = 784  # 28 x 28, flattened


class DataMissing(RuntimeError):
    """MNIST is not where the script looks for it; the message says what to do."""


def load_mnist(data_dir, download=False):
    """Both MNIST splits as (N, 784) float tensors in [0, 1]."""
    root = Path(data_dir)
    try:
        train = datasets.MNIST(root, train=True, download=download)
        test = datasets.MNIST(root, train=False, download=download)
    except RuntimeError as error:  # torchvision's "Dataset not found", or a failed download
        raise DataMissing(
            f"MNIST was not found in {root / 'MNIST' / 'raw'} ({error}). Put the four uncompressed MNIST files "
            "(train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte) "
            "there, point the data folder (--data-dir; DATA_DIR in the notebook) at the folder that holds "
            "MNIST/raw, or download it (--download; DOWNLOAD = True in the notebook)."
        ) from None
    # (N, 28, 28) bytes -> (N, 784) floats in [0, 1]
    return train.data.reshape(-1, PIXELS).float() / 255, test.data.reshape(-1, PIXELS).float() / 255


def fake_data(n, seed):
    """n random training and n random test images, to try the script without MNIST."""
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(n, PIXELS, generator=generator), torch.rand(n, PIXELS, generator=generator)


def get_data(data_dir, download=False, fake=0):
    """MNIST, or `fake` random images when fake > 0."""
    return fake_data(fake, SETTINGS["seed"]) if fake > 0 else load_mnist(data_dir, download)
'''

_MODEL = '''\
class Autoencoder(nn.Module):
    """784 -> k -> 784: one linear layer to compress, one to reconstruct."""

    def __init__(self, latent_dim, activation="none", output="sigmoid"):
        super().__init__()
        self.encoder = nn.Linear(PIXELS, latent_dim)
        self.decoder = nn.Linear(latent_dim, PIXELS)
        self.activation = activation
        self.output = output

    def forward(self, x):
        code = self.encoder(x)  # (B, 784) -> (B, k)
        if self.activation == "relu":
            code = torch.relu(code)
        out = self.decoder(code)  # (B, k) -> (B, 784)
        return torch.sigmoid(out) if self.output == "sigmoid" else out


def init_weights(model, seed, train_images):
    """PyTorch's default uniform init, drawn in the studio's order so the starting weights are the same."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for layer in (model.encoder, model.decoder):
            bound = 1.0 / math.sqrt(layer.in_features)
            layer.weight.copy_(torch.rand(layer.weight.shape, generator=generator) * 2 * bound - bound)
            layer.bias.copy_(torch.rand(layer.bias.shape, generator=generator) * 2 * bound - bound)
        if SETTINGS["bias_init"] == "mean":
            # Start from the average digit: the decoder's bias is that image (through a logit under a sigmoid).
            mean_image = train_images.mean(dim=0)  # (784,)
            if model.output == "sigmoid":
                mean_image = torch.logit(mean_image.clamp(0.01, 0.99))
            model.decoder.bias.copy_(mean_image)
    return model
'''

# A denoiser's corruption, one function per kind; the export holds only the kind its model was trained with.
_NOISE = {
    "gaussian": '''\
def corrupt(x, generator):
    """Gaussian noise of standard deviation noise_level, clipped back into [0, 1]."""
    noise = torch.randn(x.shape, generator=generator)
    return (x + SETTINGS["noise_level"] * noise).clamp(0.0, 1.0)
''',
    "salt_pepper": '''\
def corrupt(x, generator):
    """Salt and pepper: a noise_level fraction of the pixels set to black or white, half each."""
    level = SETTINGS["noise_level"]
    u = torch.rand(x.shape, generator=generator)
    x = x.clone()
    x[u < level / 2] = 0.0  # pepper
    x[(u >= level / 2) & (u < level)] = 1.0  # salt
    return x
''',
    "dropout": '''\
def corrupt(x, generator):
    """Pixel dropout: a noise_level fraction of the pixels set to black."""
    keep = torch.rand(x.shape, generator=generator) >= SETTINGS["noise_level"]
    return x * keep
''',
    "block": '''\
def corrupt(x, generator):
    """Block occlusion: a black square of side noise_level x 28 pixels somewhere in each image."""
    side = round(SETTINGS["noise_level"] * 28)
    if side == 0:
        return x.clone()
    batch = x.shape[0]
    top = torch.randint(0, 28 - side + 1, (batch,), generator=generator)
    left = torch.randint(0, 28 - side + 1, (batch,), generator=generator)
    rows = torch.arange(28)
    in_rows = (rows[None, :] >= top[:, None]) & (rows[None, :] < top[:, None] + side)  # (B, 28)
    in_cols = (rows[None, :] >= left[:, None]) & (rows[None, :] < left[:, None] + side)  # (B, 28)
    mask = (in_rows[:, :, None] & in_cols[:, None, :]).reshape(batch, PIXELS)  # (B, 784)
    return x.masked_fill(mask, 0.0)
''',
}

# The lines of train() that differ between a plain autoencoder and a denoiser.
_PLAIN = {
    "__SETUP__": "",
    "__STEP__": "            loss = loss_fn(model(clean), clean)  # (B, 784) -> (B, k) -> (B, 784)\n",
    "__SCORE__": '        scores = f"test MSE {test_mse(model, test_images, test_images):.6f}"\n',
}
_DENOISER = {
    "__SETUP__": (
        "    noise_generator = torch.Generator().manual_seed(seed)\n"
        "    # Also scored on its task: a fixed noisy copy of the test digits in, the clean ones as the target.\n"
        "    noisy_test = corrupt(test_images, torch.Generator().manual_seed(seed))\n"
    ),
    "__STEP__": (
        "            inputs = corrupt(clean, noise_generator)  # noisy digits in, the clean ones as the target\n"
        "            loss = loss_fn(model(inputs), clean)  # (B, 784) -> (B, k) -> (B, 784)\n"
    ),
    "__SCORE__": (
        "        noisy = test_mse(model, noisy_test, test_images)\n"
        "        clean = test_mse(model, test_images, test_images)\n"
        '        scores = f"test MSE {noisy:.6f} for noisy digits, {clean:.6f} for clean ones"\n'
    ),
}

_TRAIN = '''\
def learning_rate(step, total_steps, elapsed):
    """Adam's step size now: constant, or a cosine decay from lr to zero over the run."""
    if SETTINGS["schedule"] == "constant":
        return SETTINGS["lr"]
    progress = step / total_steps
    if SETTINGS["max_seconds"]:
        progress = max(progress, elapsed / SETTINGS["max_seconds"])
    return SETTINGS["lr"] * 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))


@torch.no_grad()
def test_mse(model, images, targets):
    """Mean squared error between the model's output for `images` and `targets`, over every pixel."""
    model.eval()
    total = 0.0
    for x, target in DataLoader(TensorDataset(images, targets), batch_size=1000):
        total += ((model(x) - target) ** 2).sum().item()
    model.train()
    return total / targets.numel()


def train(train_images, test_images, epochs=None):
    """Train from the seeded start; print the settings, then the test MSE after every epoch and at the end."""
    settings = {**SETTINGS, "epochs": epochs or SETTINGS["epochs"]}
    print("settings:", json.dumps(settings, sort_keys=True))
    seed = settings["seed"]
    model = Autoencoder(settings["latent_dim"], settings["activation"], settings["output"])
    init_weights(model, seed, train_images)
    shuffle = torch.Generator().manual_seed(seed + 1)
    loader = DataLoader(TensorDataset(train_images), settings["batch_size"], shuffle=True, generator=shuffle)
    optimizer = torch.optim.Adam(model.parameters(), lr=settings["lr"])
    loss_fn = nn.MSELoss()
__SETUP__\
    total_steps = settings["epochs"] * len(loader)
    step, started, out_of_time = 0, time.perf_counter(), False
    for epoch in range(1, settings["epochs"] + 1):
        for (clean,) in loader:  # (B, 784)
            elapsed = time.perf_counter() - started
            if settings["max_seconds"] and elapsed >= settings["max_seconds"]:
                out_of_time = True
                break
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(step, total_steps, elapsed)
__STEP__\
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1
__SCORE__\
        print(f"epoch {epoch}/{settings['epochs']}: {scores}")
        if out_of_time:
            print(f"Stopped by the {settings['max_seconds']:g} s time budget.")
            break
    studio = ""
    if STUDIO_RESULT["test_mse"] is not None:
        studio = f" (the studio's run: {STUDIO_RESULT['test_mse']:.6f} after {STUDIO_RESULT['epochs']} epochs)"
    print(f"final {scores}{studio}")
    return model
'''

_MAIN = '''\
def main(argv=None):
    parser = argparse.ArgumentParser(description="Train the exported linear autoencoder on MNIST.")
    parser.add_argument("--data-dir", default="./mnist", help="the folder holding MNIST/raw (torchvision's layout)")
    parser.add_argument("--download", action="store_true", help="download MNIST into --data-dir first")
    parser.add_argument("--epochs", type=int, default=SETTINGS["epochs"], help="default: the exported run's")
    parser.add_argument("--fake-data", type=int, default=0, metavar="N", help="train on N random images instead")
    args = parser.parse_args(argv)
    if args.epochs < 1 or args.fake_data < 0:
        parser.error("--epochs must be at least 1 and --fake-data at least 0.")
    try:
        train_images, test_images = get_data(args.data_dir, args.download, args.fake_data)
    except DataMissing as error:
        sys.exit(str(error))
    train(train_images, test_images, args.epochs)


if __name__ == "__main__":
    main()
'''

_PARAMETERS = """\
DATA_DIR = "./mnist"  # the folder holding MNIST/raw (torchvision's layout)
DOWNLOAD = False  # True: download MNIST into DATA_DIR first
EPOCHS = SETTINGS["epochs"]
FAKE_DATA = 0  # e.g. 64: train on 64 random images instead of MNIST, for a quick look
"""

_RUN = """\
train_images, test_images = get_data(DATA_DIR, DOWNLOAD, FAKE_DATA)
model = train(train_images, test_images, EPOCHS)
"""

_TITLE = (
    "# A linear autoencoder on MNIST\n\n"
    "Exported from the linear autoencoder studio: the same model, starting weights and training settings, "
    "written as a plain PyTorch training loop. Only `torch` and `torchvision` are needed."
)
_NOTES = {
    "settings": (
        "## Settings\n\nThe trained model's settings, as the studio recorded them. Change any of them and run "
        "again to see what it does."
    ),
    "data": (
        "## Data\n\nMNIST through torchvision, flattened to 784 pixels in [0, 1]. `fake_data` gives random "
        "images instead, to try the code without MNIST."
    ),
    "model": (
        "## The model\n\nAn encoder `nn.Linear(784, k)` and a decoder `nn.Linear(k, 784)`. The starting weights "
        "are drawn from a seeded generator exactly as the studio draws them."
    ),
    "noise": (
        "## Noise\n\nThis model is a denoiser: it sees corrupted digits and learns to output the clean ones."
    ),
    "train": (
        "## Training\n\nThe classic loop: shuffled batches, the mean squared error between output and clean "
        "input, Adam. The batches come in a different order than in the studio, so the numbers differ a little."
    ),
    "parameters": "## Run\n\nChange these to train for fewer epochs or on random images.",
    "run": "Train, printing the test MSE after every epoch.",
}


class ExportError(ValueError):
    """The model's settings cannot be written as a script; the message says which one."""


def export_config(info: ModelInfo) -> TrainConfig:
    """The settings to export: the recorded ones, or the studio's defaults where a file recorded none."""
    config = info.config or TrainConfig(epochs=min(max(info.epochs, 1), MAX_EPOCHS))
    try:  # the weights decide the architecture, whatever the recorded settings say
        return config.with_(latent_dim=info.latent_dim, activation=info.activation, output=info.output)
    except (ValueError, TypeError) as exc:
        raise ExportError(f"This model cannot be exported: {exc}") from None


def literal(value: object) -> str:
    """A Python literal for a setting; anything but None, a bool, a number or a string is refused."""
    if isinstance(value, str):  # plain str() first: an enum member's repr is not Python source
        return repr(str(value))
    if value is None or isinstance(value, bool | int):
        return repr(value)
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    raise ExportError(f"A setting cannot be written as a Python value: {type(value).__name__}.")


def _settings_code(info: ModelInfo, config: TrainConfig) -> str:
    """MODEL_NAME, STUDIO_RESULT and SETTINGS as literals, one commented line per setting."""
    values = asdict(config)
    if not isinstance(values["seed"], int) or isinstance(values["seed"], bool):
        seed = literal(values["seed"])
        raise ExportError(f"This model cannot be exported: its seed must be a whole number, got {seed}.")
    lines = [
        f"MODEL_NAME = {literal(info.name)}  # the studio model this was exported from",
        f"STUDIO_RESULT = {{'epochs': {literal(info.epochs)}, 'test_mse': {literal(info.test_mse)}}}",
        "SETTINGS = {",
        *(f"    {name!r}: {literal(values[name])},  # {note}" for name, note in SETTING_NOTES.items()),
        "}",
    ]
    return "\n".join(lines) + "\n"


def _sections(info: ModelInfo) -> list[tuple[str, str]]:
    """(section, code) pairs shared by the script and the notebook, in order."""
    config = export_config(info)
    noise = config.noise != "none"
    train = _TRAIN
    for placeholder, lines in (_DENOISER if noise else _PLAIN).items():
        train = train.replace(placeholder, lines)
    sections = [("imports", _IMPORTS), ("settings", _settings_code(info, config)), ("data", _DATA), ("model", _MODEL)]
    if noise:
        sections.append(("noise", _NOISE[config.noise]))
    return [*sections, ("train", train)]


def _comment(markdown: str) -> str:
    """A notebook note as a comment block for the script (the notes are this module's own text)."""
    lines = []
    for paragraph in markdown.split("\n\n"):
        text = paragraph.lstrip("#").strip()
        lines += [*(f"# {line}" for line in textwrap.wrap(text, COMMENT_WIDTH)), "#"]
    return "\n".join(lines[:-1]) + "\n"


def export_script(info: ModelInfo) -> str:
    """A standalone Python script that trains this model again: `python script.py --data-dir ./mnist`."""
    header = (
        '"""A linear autoencoder on MNIST, exported from the linear autoencoder studio.\n\n'
        "Only torch and torchvision are needed. Run it as\n"
        "    python this_file.py --data-dir ./mnist         # torchvision's layout: ./mnist/MNIST/raw/...\n"
        "    python this_file.py --download                 # fetch MNIST into ./mnist first\n"
        "    python this_file.py --epochs 1 --fake-data 64  # a quick look on random images\n"
        '"""\n\n'
    )
    sections = _sections(info)
    parts = [header, sections[0][1]]  # the imports
    for name, code in sections[1:]:  # two blank lines between sections, one after the imports (isort's way)
        parts.append(("\n" if len(parts) == 2 else "\n\n") + _comment(_NOTES[name]) + code)
    parts.append("\n\n" + _MAIN)
    return "".join(parts)


def export_notebook(info: ModelInfo) -> str:
    """The same code as a Jupyter notebook (nbformat v4): a short note before each step."""
    import nbformat  # imported here: only the export needs it
    from nbformat import v4

    cells = [v4.new_markdown_cell(_TITLE)]
    for name, code in _sections(info):
        if name != "imports":
            cells.append(v4.new_markdown_cell(_NOTES[name]))
        cells.append(v4.new_code_cell(code.rstrip("\n")))
    cells.append(v4.new_markdown_cell(_NOTES["parameters"]))
    # Tagged as papermill's "parameters" cell, so tools (and our tests) can set them from outside.
    cells.append(v4.new_code_cell(_PARAMETERS.rstrip("\n"), metadata={"tags": ["parameters"]}))
    cells.append(v4.new_markdown_cell(_NOTES["run"]))
    cells.append(v4.new_code_cell(_RUN.rstrip("\n")))
    notebook = v4.new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
    )
    nbformat.validate(notebook)
    return nbformat.writes(notebook)

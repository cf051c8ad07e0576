"""Workshop presets in the URL (?k=8&epochs=3&noise=gaussian&level=0.3): parse, validate, apply, share."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from urllib.parse import urlencode

from model.autoencoder import OUTPUTS
from model.config import MAX_EPOCHS, TrainConfig
from model.noise import NOISE_TYPES

DEFAULT_LEVEL = 0.3  # noise level used when a preset names a noise but no level


def _int_in(lo: int, hi: int):
    def parse(text: str) -> int:
        value = int(text)
        if not lo <= value <= hi:
            raise ValueError
        return value

    parse.expect = f"a whole number from {lo} to {hi}"
    return parse


def _float_in(lo: float, hi: float):
    def parse(text: str) -> float:
        value = float(text)
        if not math.isfinite(value) or not lo <= value <= hi:
            raise ValueError
        return value

    parse.expect = f"a number from {lo:g} to {hi:g}"
    return parse


def _choice(options: tuple[str, ...]):
    def parse(text: str) -> str:
        value = text.strip().lower().replace("-", "_")
        if value not in options:
            raise ValueError
        return value

    parse.expect = "one of " + ", ".join(options)
    return parse


# URL parameter -> (TrainConfig field, parser)
PARAMS = {
    "k": ("latent_dim", _int_in(1, 784)),
    "activation": ("activation", _choice(("none", "relu"))),
    "output": ("output", _choice(OUTPUTS)),
    "epochs": ("epochs", _int_in(1, MAX_EPOCHS)),
    "batch": ("batch_size", _int_in(1, 60_000)),
    "lr": ("lr", _float_in(0.0, 10.0)),
    "seed": ("seed", _int_in(0, 2**31 - 1)),
    "schedule": ("schedule", _choice(("cosine", "constant"))),
    "noise": ("noise", _choice(NOISE_TYPES)),
    "level": ("noise_level", _float_in(0.0, 1.0)),
}
RECIPES = {"fast": TrainConfig(), "classic": TrainConfig.classic(), "pca": TrainConfig.watch_pca()}


def parse_preset(params: Mapping[str, str | list[str]]) -> tuple[TrainConfig | None, list[str]]:
    """A config from URL parameters (None when there are none) and one sentence per ignored value."""
    problems: list[str] = []
    values = {k: (v[-1] if isinstance(v, list) else v) for k, v in params.items()}
    recipe = values.pop("recipe", None)
    base = TrainConfig()
    if recipe is not None:
        if recipe.lower() in RECIPES:
            base = RECIPES[recipe.lower()]
        else:
            problems.append(f"recipe={recipe!r} is not known (use fast, classic or pca); using the fast defaults.")
    changes = {}
    for key, text in values.items():
        if key not in PARAMS:
            problems.append(f"Ignored the unknown parameter {key!r}.")
            continue
        field, parse = PARAMS[key]
        try:
            changes[field] = parse(str(text))
        except ValueError:
            problems.append(f"{key}={text!r} is not {parse.expect}; kept the default.")
    if not changes and recipe is None:
        return None, problems
    if changes.get("noise", base.noise) != "none" and "noise_level" not in changes and base.noise_level == 0:
        changes["noise_level"] = DEFAULT_LEVEL
    try:
        return replace(base, **changes), problems
    except ValueError as exc:
        return base, [*problems, f"The preset does not fit together ({exc}); using the defaults."]


def preset_query(config: TrainConfig) -> str:
    """The query string that reproduces config's Train settings; defaults are left out to keep it short."""
    defaults = TrainConfig()
    parts = {}
    for key, (field, _) in PARAMS.items():
        value = getattr(config, field)
        if value != getattr(defaults, field):
            parts[key] = f"{value:g}" if isinstance(value, float) else value
    return urlencode(parts)

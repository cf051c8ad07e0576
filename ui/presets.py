"""Workshop presets in the URL (?k=8&epochs=3&noise=gaussian&level=0.3): parse, validate, apply, share."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from urllib.parse import urlencode

from streamlit.runtime.state.query_params import CLIENT_STATE_QUERY_STRING_MAX_FIELDS

from model.autoencoder import Activation, Output, activation_label
from model.config import LIMITS, Schedule, TrainConfig
from model.noise import NO_NOISE, noise_kinds, noise_name
from model.plural import plural
from ui.text import plain

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
    "k": ("latent_dim", _int_in(*LIMITS["latent_dim"])),
    "activation": ("activation", _choice(tuple(Activation))),
    "output": ("output", _choice(tuple(Output))),
    "epochs": ("epochs", _int_in(*LIMITS["epochs"])),
    "batch": ("batch_size", _int_in(*LIMITS["batch_size"])),
    "lr": ("lr", _float_in(*LIMITS["lr"])),
    "seed": ("seed", _int_in(*LIMITS["seed"])),
    "schedule": ("schedule", _choice(tuple(Schedule))),
    "noise": ("noise", _choice(noise_kinds())),
    "level": ("noise_level", _float_in(*LIMITS["noise_level"])),
}
RECIPES = {"fast": TrainConfig(), "classic": TrainConfig.classic(), "pca": TrainConfig.watch_pca()}
STREAMLIT_PARAMS = {"embed", "embed_options"}  # Streamlit's own, not ours to report
DROPPED_PARAM = "link_dropped"  # ui/server/guards.py's note that a link was over Streamlit's query limits
PRESET_KEYS = {*PARAMS, "recipe"}


def _quote(value: object, limit: int = 30) -> str:
    """A URL value as the notice quotes it: one line, short (the notice escapes markdown when shown)."""
    return repr(plain(value, limit))


def parse_preset(params: Mapping[str, str | list[str]]) -> tuple[TrainConfig | None, list[str]]:
    """A config from URL parameters (None when there are none) and one sentence per ignored value."""
    problems: list[str] = []
    values = {k: (v[-1] if isinstance(v, list) else v) for k, v in params.items()}
    recipe = values.pop("recipe", None)
    dropped = values.pop(DROPPED_PARAM, "")
    if dropped.isdecimal() and len(dropped) < 10:
        problems.append(
            f"The link had {int(dropped):,} parameters, over what Streamlit reads ({CLIENT_STATE_QUERY_STRING_MAX_FIELDS:,} "
            "parameters or 512 Ki characters), so only the Train settings in it were kept."
        )
    base = TrainConfig()
    if recipe is not None:
        if recipe.lower() in RECIPES:
            base = RECIPES[recipe.lower()]
        else:
            problems.append(
                f"recipe={_quote(recipe)} is not known (use fast, classic or pca); using the fast defaults."
            )
    changes, unknown = {}, []
    for key, text in values.items():
        if key not in PARAMS:
            if key not in STREAMLIT_PARAMS:
                unknown.append(key)
            continue
        field, parse = PARAMS[key]
        try:
            changes[field] = parse(str(text))
        except ValueError:
            problems.append(f"{key}={_quote(text)} is not {parse.expect}; kept the default.")
    if unknown:  # one sentence for all of them: a long made-up query must not make a long notice
        more = f" and {len(unknown) - 3} more" if len(unknown) > 3 else ""
        names = ", ".join(_quote(key, 20) for key in unknown[:3])
        problems.append(f"Ignored {len(unknown)} unknown parameter{'s' if len(unknown) > 1 else ''}: {names}{more}.")
    if not changes and recipe is None:
        return None, problems
    if changes.get("noise", base.noise) != NO_NOISE and "noise_level" not in changes and base.noise_level == 0:
        changes["noise_level"] = DEFAULT_LEVEL
    try:
        return replace(base, **changes), problems
    except ValueError as exc:
        return base, [*problems, f"The preset does not fit together ({exc}); using the defaults."]


def describe_settings(config: TrainConfig) -> str:
    """The settings in one line, activation included: 'k=32, ReLU encoder, 20 epochs, batch 20, Adam 0.001 (constant)'."""
    text = (
        f"k={config.latent_dim}, {activation_label(config.activation)} encoder, {plural(config.epochs, 'epoch')}, "
        f"batch {config.batch_size}, Adam {config.lr:g} ({config.schedule})"
    )
    if config.output == Output.LINEAR:
        text += ", linear output"
    if config.noise != NO_NOISE:
        text += f", denoising with {noise_name(config.noise)} noise {config.noise_level:g}"
    return text


def preset_query(config: TrainConfig) -> str:
    """The query string that reproduces config's Train settings; defaults are left out to keep it short."""
    defaults = TrainConfig()
    parts = {}
    for key, (field, _) in PARAMS.items():
        value = getattr(config, field)
        if value != getattr(defaults, field):
            parts[key] = f"{value:g}" if isinstance(value, float) else value
    return urlencode(parts)

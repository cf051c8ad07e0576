"""URL presets: valid ones apply, invalid values fall back with a sentence each, links round-trip."""

from __future__ import annotations

from urllib.parse import parse_qs

from model.config import TrainConfig
from ui.presets import DEFAULT_LEVEL, parse_preset, preset_query


def test_workshop_preset_applies():
    config, problems = parse_preset({"k": "8", "epochs": "3", "noise": "gaussian", "level": "0.3"})
    assert problems == []
    assert (config.latent_dim, config.epochs, config.noise, config.noise_level) == (8, 3, "gaussian", 0.3)


def test_no_parameters_means_no_preset():
    assert parse_preset({}) == (None, [])


def test_invalid_values_fall_back_with_notices():
    config, problems = parse_preset({"k": "0", "epochs": "lots", "lr": "nan", "level": "2", "noise": "fog", "zzz": "1"})
    defaults = TrainConfig()
    assert config is None or (config.latent_dim, config.epochs, config.lr) == (
        defaults.latent_dim,
        defaults.epochs,
        defaults.lr,
    )
    joined = " ".join(problems)
    for bad in ("k='0'", "epochs='lots'", "lr='nan'", "level='2'", "noise='fog'", "'zzz'"):
        assert bad in joined, f"{bad} should be reported"


def test_mixed_valid_and_invalid_keeps_the_valid():
    config, problems = parse_preset({"k": "16", "batch": "-5"})
    assert config.latent_dim == 16 and config.batch_size == TrainConfig().batch_size
    assert len(problems) == 1 and "batch" in problems[0]


def test_noise_without_level_gets_a_visible_default():
    config, _ = parse_preset({"noise": "block"})
    assert config.noise == "block" and config.noise_level == DEFAULT_LEVEL


def test_classic_recipe_and_unknown_recipe():
    config, problems = parse_preset({"recipe": "classic", "k": "2"})
    assert config.activation == "relu" and config.batch_size == 20 and config.latent_dim == 2 and not problems
    config, problems = parse_preset({"recipe": "magic"})
    assert config == TrainConfig() and "magic" in problems[0]


def test_list_values_use_the_last():
    config, _ = parse_preset({"k": ["4", "12"]})
    assert config.latent_dim == 12


def test_share_link_round_trips():
    original = TrainConfig(latent_dim=8, epochs=3, noise="gaussian", noise_level=0.3, lr=0.005, seed=7)
    query = preset_query(original)
    params = {k: v[-1] for k, v in parse_qs(query).items()}
    config, problems = parse_preset(params)
    assert problems == [] and config == original
    assert preset_query(TrainConfig()) == "", "defaults make an empty query"


def test_describe_settings_names_the_activation_and_counts_right():
    from ui.presets import describe_settings

    classic = describe_settings(TrainConfig.classic(epochs=1))
    assert classic == "k=32, ReLU encoder, 1 epoch, batch 20, Adam 0.001 (constant)"
    noisy = describe_settings(TrainConfig(latent_dim=8, noise="salt_pepper", noise_level=0.2))
    assert noisy.startswith("k=8, linear encoder, 10 epochs") and noisy.endswith(
        "denoising with salt and pepper noise 0.2"
    )


def test_output_and_the_pca_recipe_apply_and_round_trip():
    config, problems = parse_preset({"k": "16", "output": "linear"})
    assert problems == [] and (config.latent_dim, config.output) == (16, "linear")
    assert parse_qs(preset_query(config)) == {"k": ["16"], "output": ["linear"]}
    assert "output" not in preset_query(TrainConfig())  # the default sigmoid is left out of links
    recipe, problems = parse_preset({"recipe": "pca"})
    assert problems == [] and recipe == TrainConfig.watch_pca()
    assert parse_preset(parse_qs(preset_query(recipe)))[0] == recipe
    _, problems = parse_preset({"output": "tanh"})
    assert any("output='tanh'" in p and "sigmoid" in p for p in problems)

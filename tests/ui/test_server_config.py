"""Server settings that a class depends on, read from the project's own .streamlit/config.toml."""

from __future__ import annotations

import tomllib
from pathlib import Path

from streamlit import config as st_config

ROOT = Path(__file__).resolve().parents[2]


def test_no_full_garbage_collection_after_every_script_run() -> None:
    """Streamlit's default gc.collect(2) after each run held the interpreter lock 0.1-0.25 s a poll or stroke."""
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert "runner.postScriptGC" in st_config.get_config_options(), "the option was renamed: find its new name"
    assert config["runner"]["postScriptGC"] is False

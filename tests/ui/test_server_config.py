"""Server settings that a class depends on, read from the project's own .streamlit/config.toml."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

from streamlit import config as st_config

ROOT = Path(__file__).resolve().parents[2]


def test_no_full_garbage_collection_after_every_script_run() -> None:
    """Streamlit's default gc.collect(2) after each run held the interpreter lock 0.1-0.25 s a poll or stroke."""
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert "runner.postScriptGC" in st_config.get_config_options(), "the option was renamed: find its new name"
    assert config["runner"]["postScriptGC"] is False


def test_the_server_module_tunes_the_interpreter_and_patches_streamlit() -> None:
    """app.py (what `streamlit run` loads) sets the 1 ms switch interval and installs both Streamlit patches."""
    code = (
        "import sys, app\n"
        "from streamlit.runtime.app_session import AppSession\n"
        "from streamlit.runtime.runtime import Runtime\n"
        "print(sys.getswitchinterval(),"
        " getattr(AppSession._create_scriptrunner, '_studio_waits_for_ending_runner', False),"
        " getattr(Runtime._enqueued_some_message, '_studio_sets_directly_on_the_loop', False))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "STUDIO_SWITCH_INTERVAL_MS"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[-3:] == ["0.001", "True", "True"]

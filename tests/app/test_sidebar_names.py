"""The sidebar writes out a model name too long for its select box, as plain text."""

from __future__ import annotations

from tests.app.conftest import open_page
from tests.app.test_latent_compare import user_model
from ui.session import state
from ui.widgets.sidebar import NAME_FITS

LONG = "Uploaded: my very long model name for the class demo, **k=4** linear"


def test_a_long_name_is_written_out_and_a_short_one_is_not(with_mnist):
    at = open_page("app_pages/draw.py")
    assert not at.sidebar.text, "the bundled names fit the box"
    entry = user_model(4)
    entry = type(entry)(LONG, entry.model, entry.info, "uploaded")
    assert len(LONG) > NAME_FITS
    at.session_state[state.USER_MODELS] = {entry.name: entry}
    at.session_state[state.ACTIVE_MODEL] = entry.name
    at.run()
    assert not at.exception, at.exception
    assert [t.value for t in at.sidebar.text] == [LONG], "in full, and as text: the asterisks stay"

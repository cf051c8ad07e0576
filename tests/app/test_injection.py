"""Strings from a link or a model file are shown as text on every page: never a live link, image or markup.

Each hostile string goes in where a participant can put it (the URL, a file name, a model file's name,
format version or activation) and every markdown body AppTest sees on every page, sidebar included, is
checked for what a markdown renderer would turn into a link or fetch (see is_live).
"""

from __future__ import annotations

import json
import re

from streamlit.testing.v1 import AppTest

from model.autoencoder import LinearAutoencoder
from model.checkpoint import ModelInfo, model_to_bytes
from tests.app.conftest import PAGES, ROOT, visible
from ui.pages import page_path

LINK = "[Log in again](https://evil.example/login)"
PIXEL = "![px](https://evil.example/pixel.png)"
SHORT_PIXEL = "![p](https://evil.example/p.png)"
URL_PARAMS = {
    f"**Session expired** {LINK}": "1",
    "recipe": "[Official slides](https://evil.example)",
    "k": f"8{PIXEL}",
    "epochs": "<https://evil.example>",
}
UPLOADS = {  # file name -> (metadata name, metadata changes)
    "[ok](https:evil.example).safetensors": ("", {}),
    "named.safetensors": (f"{LINK}\u202e{SHORT_PIXEL}", {}),  # 74 characters: under the 80 kept
    "version.safetensors": ("v", {"format_version": "[v2](https://evil.example)"}),
    "activation.safetensors": ("a", {"activation": PIXEL}),
    "tag.safetensors": ('<a href="https://evil.example">click</a><img src="https://evil.example/p.png">', {}),
}
ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")
SYNTAX = re.compile(r"\]\(|!\[|\]\[|<[a-z]+:|evil\.example|\u202e")
AUTOLINK = re.compile(r"(?i)https?://|www\.|[-.\w+]@[-\w]")
KINDS = ("markdown", "caption", "info", "error", "warning", "success", "title", "subheader", "header", "toast")


def model_file(name: str, **meta_changes: str) -> bytes:
    data = model_to_bytes(LinearAutoencoder(4), ModelInfo(4, "none", 1, 0.05, None, name))
    if not meta_changes:
        return data
    size = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + size])
    header["__metadata__"].update(meta_changes)
    raw = json.dumps(header).encode()
    return len(raw).to_bytes(8, "little") + raw + data[8 + size :]


def bodies(at: AppTest) -> list[str]:
    """Every markdown body on the page and in the sidebar, plus the labels and texts that render markdown."""
    found = [str(e.value) for kind in KINDS for e in getattr(at, kind, [])]
    found += [str(e.proto.text) for e in at.get("progress")]
    found += [
        str(w.label) for kind in ("selectbox", "multiselect", "button", "number_input") for w in getattr(at, kind)
    ]
    return found


def is_live(body: str) -> bool:
    """Whether markdown would make a link or image of the body.

    Link and image syntax is parsed around backslash escapes, so it is looked for with the escaped
    characters removed; GFM's autolinks (https://…, www.…, a@b.c) are found afterwards in the plain
    text, escapes resolved, so they are looked for there.
    """
    return bool(SYNTAX.search(ESCAPED.sub("", body)) or AUTOLINK.search(ESCAPED.sub(r"\1", body)))


def live_markup(at: AppTest) -> list[str]:
    """The bodies that would render a link or an image, but for the Train page's own share link."""
    own_share_link = re.compile(r"^\[.*\]\(http://localhost:8501/train(\?[\w=&.%-]*)?\)$")
    return [b for b in bodies(at) if is_live(b) and not own_share_link.match(b)]


def test_hostile_strings_never_become_links_or_images(with_mnist):
    at = AppTest.from_file(str(ROOT / "studio.py"), default_timeout=60)
    at.query_params.update(URL_PARAMS)
    at.run()
    assert not at.exception, at.exception
    assert live_markup(at) == []
    warning = visible("\n".join(str(w.value) for w in at.warning))
    assert "'**Session expired**…'" in warning and "'[Official slides](https://evi…'" in warning, warning
    assert warning.count("unknown parameter") == 1

    at.switch_page("app_pages/train.py").run()
    seen = []  # notices show once, on the run after the upload
    for file_name, (meta_name, changes) in UPLOADS.items():
        uploader = next(u for u in at.file_uploader if u.key.startswith("model_upload_"))
        uploader.set_value((file_name, model_file(meta_name, **changes), "application/octet-stream")).run()
        assert not at.exception, at.exception
        assert live_markup(at) == [], file_name
        seen += bodies(at)
    shown = visible("\n".join(seen))
    assert "Uploaded: [ok](https:evil.example)" in shown, "a file name reads as typed"
    assert f"Uploaded: {LINK}{SHORT_PIXEL}" in shown and "\u202e" not in shown, "as typed, bidi override dropped"
    assert "format version '[v2](https://evil.example)'" in shown
    assert PIXEL in shown and "settings are invalid" in shown, "the bad activation is refused, shown as text"
    names = at.sidebar.selectbox[0].options
    assert not any("\u202e" in n for n in names)

    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)
        assert live_markup(at) == [], page
    at.switch_page(page_path("compare")).run()
    compare_chart = json.loads(at.get("plotly_chart")[0].proto.spec)
    hover = " ".join(str(t.get("customdata")) for t in compare_chart["data"])
    assert "&lt;a href" in hover and "<a " not in hover and "<img" not in hover, "plotly would render <a href>"
    assert "[ok](https:evil.example)" in hover, "the Compare chart's hover names the file as typed"


def test_the_apps_own_bold_text_is_kept(with_mnist):
    at = AppTest.from_file(str(ROOT / "studio.py"), default_timeout=60)
    at.switch_page("app_pages/train.py").run()
    uploader = next(u for u in at.file_uploader if u.key.startswith("model_upload_"))
    uploader.set_value(("x.safetensors", model_file("*nice* model"), "application/octet-stream")).run()
    success = [str(s.value) for s in at.success]
    assert any(s.startswith("Loaded **Uploaded\\:\u2060 \\*nice\\* model**") for s in success), success

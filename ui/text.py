"""Strings from users and files (model names, file names, URL values, file metadata), made safe to show.

Streamlit renders st.markdown, st.info/warning/error/success, captions and widget labels as markdown, so a
model named `[Log in](https://evil.example)` would be a live link and `![](https://evil.example/p.png)` a
tracking pixel. `md()` escapes such a string so it reads as typed; the app's own formatting around it
(`f"**{md(name)}**"`) keeps working. `plain()` is for places that show text as it is (select boxes, tables,
file names); `plotly_text()` for chart labels, where plotly reads <a href> and <b> tags.
"""

from __future__ import annotations

import html
import re
import unicodedata

MAX_CHARS = 120  # a model name with its "Uploaded: " prefix; longer ones are cut with an ellipsis
# Every ASCII punctuation character: CommonMark lets each be backslash-escaped, and escaping them all
# stops links, images, emphasis, math ($), Streamlit's :color[…] directives and HTML entities (&…;),
# whatever the renderer's version adds next.
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
# Streamlit's GFM turns https://…, www.… and a@b.c into links after parsing, in the unescaped text, so
# escapes cannot stop those (seen in Chromium); an invisible word joiner after each ':', after 'www' and
# before each '@' does, and stops :emoji: and :material/icon: shortcodes too.
JOINER = "\u2060"
_AFTER = re.compile(r"(:|www(?=\.))", re.IGNORECASE)
_DROP = {"Cc", "Cf", "Cs", "Co", "Cn"}  # control, format (bidi overrides, zero-width), surrogate, private, unassigned
_KEEP = {"\u200d"}  # the zero-width joiner holds emoji sequences together; it cannot reorder text


def plain(value: object, limit: int = MAX_CHARS) -> str:
    """One line of visible characters, at most `limit` long: no control, bidi or zero-width characters."""
    kept = []
    for ch in str(value):
        category = unicodedata.category(ch)
        if category in ("Zl", "Zp") or ch in "\t\n\r\v\f\x85":
            kept.append(" ")
        elif category not in _DROP or ch in _KEEP:
            kept.append(ch)
    text = " ".join("".join(kept).split())
    return text if len(text) <= limit else text[: max(limit - 1, 0)].rstrip() + "…"


def md(value: object, limit: int = MAX_CHARS) -> str:
    """`plain(value)` escaped for markdown: shows exactly as typed, never as a link, image or formatting."""
    text = _AFTER.sub(r"\1" + JOINER, plain(value, limit)).replace("@", JOINER + "@")
    return _PUNCTUATION.sub(r"\\\1", text)


def plotly_text(value: object, limit: int = MAX_CHARS) -> str:
    """`plain(value)` for a plotly label or hover text: its tags (<a href>, <b>, <br>) shown as text."""
    return html.escape(plain(value, limit), quote=False)

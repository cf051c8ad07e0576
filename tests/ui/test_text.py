"""The one helper for strings from users and files: no markdown, no control or bidi characters, bounded."""

from __future__ import annotations

import re

import pytest

from ui.text import JOINER, MAX_CHARS, md, plain, plotly_text

HOSTILE = [
    "[Log in again](https://evil.example/login)",
    "![px](https://evil.example/pixel.png)",
    "**Session expired** <https://evil.example>",
    "[ok](https:evil.example)",
    "[ref][1]\n\n[1]: https://evil.example",
    "see https://evil.example or www.evil.example or mail@evil.example",
    ":red[alert] :material/lock: $x^2$ `code` ~~gone~~ # heading",
    "&lt;b&gt; &#91;x&#93;(https://evil.example)",
    "trailing backslash \\",
]
ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")


def unescape(text: str) -> str:
    """What the reader sees."""
    return ESCAPE.sub(r"\1", text).replace(JOINER, "")


@pytest.mark.parametrize("value", HOSTILE)
def test_md_escapes_every_markdown_character_and_keeps_the_text(value: str) -> None:
    escaped = md(value, 1000)
    assert unescape(escaped) == plain(value, 1000), "unescaping gives the text back: it reads as typed"
    # No ASCII punctuation is left bare, so no link, image, autolink, emphasis, directive or entity can start.
    bare = ESCAPE.sub("", escaped)
    assert not re.search(r"[!-/:-@\[-`{-~]", bare), bare
    assert "evil.example" not in escaped
    # GFM finds autolinks in the text after escapes are resolved: none may be left there either.
    assert not re.search(r"(?i)https?://|www\.|[-.\w+]@[-\w]", ESCAPE.sub(r"\1", escaped))


def test_app_formatting_around_an_escaped_value_still_works() -> None:
    shown = f"Loaded **{md('a*b_c')}**"
    assert shown == r"Loaded **a\*b\_c**"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("invoice\u202egnp.exe", "invoicegnp.exe"),  # right-to-left override
        ("a\u2066b\u2069c\u200fd\u061ce", "abcde"),  # isolates, RLM, Arabic letter mark
        ("zero\u200bwidth\ufeff", "zerowidth"),
        ("line\nbreak\r\tand\u2028sep", "line break and sep"),
        ("bell\x07 nul\x00 del\x7f", "bell nul del"),
        ("private\ue000use", "privateuse"),
        ("family 👨\u200d👩\u200d👧", "family 👨\u200d👩\u200d👧"),  # the joiner stays: it cannot reorder text
        ("  many   spaces  ", "many spaces"),
    ],
)
def test_plain_drops_control_and_bidi_characters(value: str, expected: str) -> None:
    assert plain(value) == expected


def test_lengths_are_capped_with_an_ellipsis() -> None:
    assert len(plain("x" * 10_000)) == MAX_CHARS and plain("x" * 10_000).endswith("…")
    assert plain("short") == "short"
    assert len(unescape(md("[" * 10_000, 50))) == 50


def test_plotly_text_shows_tags_as_text() -> None:
    assert (
        plotly_text('<a href="https://evil.example">x</a><br>')
        == '&lt;a href="https://evil.example"&gt;x&lt;/a&gt;&lt;br&gt;'
    )
    assert plotly_text("a & b") == "a &amp; b"

"""The one page list: every script exists, each page has its own address, and Home's links come from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from ui.pages import PAGES, page_path

ROOT = Path(__file__).resolve().parents[2]


def test_every_page_script_exists_and_has_its_own_address():
    assert all((ROOT / p.path).is_file() for p in PAGES)
    assert len({p.url_path for p in PAGES}) == len({p.path for p in PAGES}) == len(PAGES)


def test_home_comes_first_and_links_to_every_other_page():
    assert PAGES[0].url_path == "home" and not PAGES[0].blurb
    assert all(p.blurb for p in PAGES[1:])


def test_page_path_finds_a_page_by_its_address():
    assert page_path("draw") == "app_pages/draw.py"
    with pytest.raises(StopIteration):
        page_path("nowhere")

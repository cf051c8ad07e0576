"""The studio's pages in menu order: studio.py builds the navigation from it, Home links to it, the tests visit it.

No Streamlit here, so the tests and Home read the same list as studio.py without building st.Page objects.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

CLASS_BOARD_ENV = "STUDIO_CLASS_BOARD"  # "0" hides the Class page: an instructor's choice, on by default
OFF_VALUES = frozenset({"0", "false", "no", "off"})


@dataclass(frozen=True)
class PageSpec:
    path: str  # the page's script, relative to the repository root (not pages/: Streamlit would serve it directly)
    title: str
    icon: str
    url_path: str
    blurb: str = ""  # Home's line about the page under its link; Home itself has none
    switch: str = ""  # an environment variable that turns the page off when "0"; empty: always on


PAGES: tuple[PageSpec, ...] = (
    PageSpec("app_pages/home.py", "Home", ":material/home:", "home"),
    PageSpec(
        "app_pages/train.py",
        "Train",
        ":material/model_training:",
        "train",
        "Train a model live with the latent size you choose.",
    ),
    PageSpec("app_pages/draw.py", "Draw", ":material/draw:", "draw", "Draw a digit and see what the model makes of it."),
    PageSpec(
        "app_pages/denoise.py",
        "Denoise",
        ":material/blur_on:",
        "denoise",
        "Add noise and watch a denoiser clean it up, beside a plain model and PCA.",
    ),
    PageSpec(
        "app_pages/latent.py",
        "Latent space",
        ":material/scatter_plot:",
        "latent",
        "See where digits land in the compressed space.",
    ),
    PageSpec(
        "app_pages/compare.py", "Compare", ":material/compare:", "compare", "Put models of different sizes side by side."
    ),
    PageSpec(
        "app_pages/class_board.py",
        "Class",
        ":material/groups:",
        "class",
        "Everyone's trained models on one chart, beside PCA, live.",
        switch=CLASS_BOARD_ENV,
    ),
)


def page_on(spec: PageSpec) -> bool:
    """Whether the page is listed: a switched page is off only when its variable says so (0, false, no, off)."""
    return not spec.switch or os.environ.get(spec.switch, "").strip().lower() not in OFF_VALUES


def spec_of(url_path: str) -> PageSpec:
    """The page served at /url_path."""
    return next(p for p in PAGES if p.url_path == url_path)


def page_path(url_path: str) -> str:
    """The script of the page served at /url_path, for st.switch_page and st.page_link."""
    return spec_of(url_path).path

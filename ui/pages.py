"""The studio's pages in menu order: studio.py builds the navigation from it, Home links to it, the tests visit it.

No Streamlit here, so the tests and Home read the same list as studio.py without building st.Page objects.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PageSpec:
    path: str  # the page's script, relative to the repository root (not pages/: Streamlit would serve it directly)
    title: str
    icon: str
    url_path: str
    blurb: str = ""  # Home's line about the page under its link; Home itself has none


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
)


def page_path(url_path: str) -> str:
    """The script of the page served at /url_path, for st.switch_page and st.page_link."""
    return next(p.path for p in PAGES if p.url_path == url_path)

"""The Train page's settings widgets; they return a validated TrainConfig."""

from __future__ import annotations

import html
from enum import StrEnum
from urllib.parse import quote

import streamlit as st

from model.autoencoder import Activation, Output
from model.config import LIMITS, Schedule, TrainConfig
from model.noise import NO_NOISE, NOISES, noise_label
from ui.presets import describe_settings, parse_preset, preset_query
from ui.session import state
from ui.text import md

QUICK_KS = [2, 8, 16, 32, 64]
K_KEY, PICK_KEY = "train_k", "train_k_pick"
KEYS = {
    "latent_dim": K_KEY,
    "activation": "train_activation",
    "epochs": "train_epochs",
    "batch_size": "train_batch",
    "lr": "train_lr",
    "seed": "train_seed",
    "schedule": "train_schedule",
    "noise": "train_noise",
    "noise_level": "train_noise_level",
    "output": "train_output",
}
DENOISE_KEY = "train_denoise"
# Run controls that are no TrainConfig field (the model does not depend on them), kept like the settings.
PAUSE_AFTER_KEY = "train_pause_after"  # pause once this many steps are taken (0: off)
SLOW_KEY = "train_slow_motion"  # slow motion, before and during a run (drawn with the run's buttons)
MAX_PAUSE_AFTER = 10_000_000
SAVED_KEYS = (*KEYS.values(), DENOISE_KEY, PAUSE_AFTER_KEY, SLOW_KEY)  # the settings a browser's workspace keeps
# A copy button in plain HTML: st.code has one, but its highlighter is a 0.6 s script load for every new tab.
# Streamlit strips inline handlers (onclick), so a script attaches it. navigator.clipboard exists only on https or
# localhost; a class on http://HOST:8501 gets execCommand's copy.
COPY_BUTTON = """<button type="button" class="copy-link" data-link="{link}" style="padding:0.25rem 0.75rem;
border:1px solid rgba(49,51,63,0.2);border-radius:0.5rem;background:transparent;color:inherit;cursor:pointer">
Copy link</button>
<script>
document.querySelectorAll("button.copy-link").forEach((button) => {{
  button.onclick = () => {{
    const text = button.dataset.link;
    const done = () => {{ button.textContent = "Copied"; setTimeout(() => (button.textContent = "Copy link"), 1500); }};
    if (navigator.clipboard && window.isSecureContext) {{
      navigator.clipboard.writeText(text).then(done);
    }} else {{
      const area = document.createElement("textarea");
      area.value = text;
      document.body.appendChild(area);
      area.select();
      document.execCommand("copy");
      area.remove();
      done();
    }}
  }};
}});
</script>"""


def apply_config(config: TrainConfig) -> None:
    """Put a config's values into the widgets (presets, the classic recipe, shared links)."""
    for field, key in KEYS.items():
        value = getattr(config, field)
        # Plain strings for the selectboxes: Streamlit would try to coerce an enum to the options' type.
        st.session_state[key] = value.value if isinstance(value, StrEnum) else value
    st.session_state[DENOISE_KEY] = config.noise != NO_NOISE
    if config.noise == NO_NOISE:
        first = next(iter(NOISES))  # the toggle's noise, should the user turn denoising on
        st.session_state[KEYS["noise"]] = first
        st.session_state[KEYS["noise_level"]] = NOISES[first].default_level
    _sync_pick()


def apply_recipe(name: str, config: TrainConfig) -> None:
    """A recipe button: fill the widgets and say what changed, activation included."""
    apply_config(config)
    state.notify(f"{name}: {describe_settings(config)}.")


def persist_settings() -> None:
    """Keep the Train settings while the user is on other pages.

    Streamlit drops a widget's value when a run does not draw it; re-assigning it on every run makes it
    ordinary session state, so the settings survive a visit to another page.
    """
    for key in SAVED_KEYS:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def apply_url_preset_once() -> None:
    """On a session's first run, apply a workshop preset from the URL; say what was applied or ignored."""
    if st.session_state[state.PRESET_DONE]:
        return
    st.session_state[state.PRESET_DONE] = True
    config, problems = parse_preset(st.query_params.to_dict())
    if config is not None:
        apply_config(config)
        state.notify(f"Applied the preset from the link: {describe_settings(config)}.")
    if problems:
        state.notify(md("Some link settings were not used: " + " ".join(problems), 1000), "warning")


def share_link_ui(config: TrainConfig) -> None:
    """A link that opens the app with these settings (for a workshop's slides or chat)."""
    query = preset_query(config)
    base = (st.context.url or "").split("?")[0] or "http://localhost:8501/train"
    # The browser's URL is the visitor's input: percent-encode what could end the link or start markdown.
    link = quote(f"{base}?{query}" if query else base, safe=":/?&=%.-_~+")
    # A plain link, not st.code: the code block's highlighter is a 0.6 s script load for every new tab.
    st.markdown(f"[{md(link, 2000)}]({link})")
    st.html(COPY_BUTTON.format(link=html.escape(link, quote=True)), unsafe_allow_javascript=True)
    st.caption("Anyone who opens this link starts with these Train settings.")


def pause_after_setting() -> int:
    """The 'Pause after N steps' setting, 0 when off."""
    return int(st.session_state.get(PAUSE_AFTER_KEY) or 0)


def init_widgets(config: TrainConfig | None = None) -> None:
    """First visit: fill the widgets with the fast defaults."""
    if K_KEY not in st.session_state:
        apply_config(config or TrainConfig())


def _pick_k() -> None:
    if st.session_state.get(PICK_KEY):
        st.session_state[K_KEY] = st.session_state[PICK_KEY]


def _sync_pick() -> None:
    """Highlight the quick pick that equals k, or none: a typed k must not leave an old pick lit."""
    k = st.session_state.get(K_KEY)
    st.session_state[PICK_KEY] = k if k in QUICK_KS else None


def train_settings_ui(disabled: bool) -> TrainConfig | None:
    """Draw the settings; returns the config, or None after showing why the values do not work."""
    init_widgets()
    c1, c2 = st.columns([3, 2])
    with c1:
        st.number_input(
            "Latent size k ({}–{})".format(*LIMITS["latent_dim"]),
            *LIMITS["latent_dim"],
            step=1,
            key=K_KEY,
            disabled=disabled,
            on_change=_sync_pick,
            help="How many numbers the encoder squeezes each 784-pixel image into.",
        )
        st.pills("Quick picks", QUICK_KS, key=PICK_KEY, on_change=_pick_k, disabled=disabled)
    with c2:
        st.selectbox(
            "Encoder activation",
            [a.value for a in Activation],
            key=KEYS["activation"],
            disabled=disabled,
            format_func=lambda a: "none (purely linear)" if a == Activation.NONE else "ReLU (classic tutorial)",
        )
        st.selectbox(
            "Decoder output",
            [o.value for o in Output],
            key=KEYS["output"],
            disabled=disabled,
            format_func=lambda o: (
                "sigmoid (pixels in [0, 1])" if o == Output.SIGMOID else "linear (the PCA theorem's model)"
            ),
            help="With a linear output and a linear encoder the best model is PCA's projection (Baldi & Hornik).",
        )
        b1, b2 = st.columns(2)
        b1.button(
            "Fast defaults",
            on_click=apply_recipe,
            args=("Fast defaults", TrainConfig()),
            disabled=disabled,
            help="Linear encoder, batch 256, Adam 0.01 with cosine decay, 10 epochs.",
        )
        b2.button(
            "Classic recipe",
            on_click=apply_recipe,
            args=("Classic recipe", TrainConfig.classic()),
            disabled=disabled,
            help="The classic tutorial: ReLU, Adam 0.001, batch 20, 20 epochs, k = 32 (slow: minutes).",
        )
        st.button(
            "Watch it become PCA",
            on_click=apply_config,
            args=(TrainConfig.watch_pca(),),
            disabled=disabled,
            width="stretch",
            help="k = 32, linear encoder and output, Adam 0.005 with cosine decay, batch 256, 10 epochs: "
            "the theorem's model, which lands on PCA's error and subspace.",
        )
    with st.expander("Training settings", expanded=False):
        c1, c2, c3, c4, c5 = st.columns(5)
        c1.number_input("Epochs", *LIMITS["epochs"], step=1, key=KEYS["epochs"], disabled=disabled)
        c2.number_input("Batch size", *LIMITS["batch_size"], step=1, key=KEYS["batch_size"], disabled=disabled)
        c3.number_input("Learning rate", *LIMITS["lr"], step=0.001, format="%.4f", key=KEYS["lr"], disabled=disabled)
        c4.selectbox(
            "LR schedule",
            [s.value for s in Schedule],
            key=KEYS["schedule"],
            disabled=disabled,
            help="cosine: decays to zero by the last step; constant: the classic recipe.",
        )
        c5.number_input("Seed", *LIMITS["seed"], step=1, key=KEYS["seed"], disabled=disabled)
        denoise = st.toggle(
            "Denoising training: corrupt the input, learn to output the clean digit", key=DENOISE_KEY, disabled=disabled
        )
        n1, n2 = st.columns(2)
        n1.selectbox(
            "Noise", list(NOISES), key=KEYS["noise"], format_func=noise_label, disabled=disabled or not denoise
        )
        n2.slider("Noise level", 0.0, 1.0, step=0.05, key=KEYS["noise_level"], disabled=disabled or not denoise)
        st.session_state.setdefault(PAUSE_AFTER_KEY, 0)
        st.number_input(
            "Pause after N steps (0: off)",
            0,
            MAX_PAUSE_AFTER,
            step=1,
            key=PAUSE_AFTER_KEY,
            disabled=disabled,
            help="The run pauses by itself once it has taken this many steps; then Step, Step epoch or Resume.",
        )
    values = {field: st.session_state[key] for field, key in KEYS.items()}
    if not st.session_state[DENOISE_KEY]:
        values["noise"], values["noise_level"] = "none", 0.0
    try:
        config = TrainConfig(
            **{k: int(v) if k in ("latent_dim", "epochs", "batch_size", "seed") else v for k, v in values.items()}
        )
    except ValueError as exc:
        st.error(f"These settings cannot be used: {exc}")
        return None
    if config.lr == 0:
        st.warning("The learning rate is 0: the weights will never change, so the model stays as initialised.")
    elif config.lr > 0.1:
        st.warning(f"A learning rate of {config.lr:g} is very high for Adam; training will probably diverge.")
    return config

"""Download and upload of model files on the Train page; uploads are validated, never unpickled."""

from __future__ import annotations

import streamlit as st

from model.checkpoint import MAX_FILE_BYTES, ModelFileError, model_from_bytes
from ui.model_entry import ModelEntry, unique_name
from ui.session import state
from ui.session.models import all_models
from ui.text import md, plain

UPLOAD_KEY = "model_upload"
UPLOAD_COUNTER = "model_upload_counter"  # bumping it gives a fresh, empty uploader


def file_name(entry: ModelEntry) -> str:
    return f"{entry.file_stem}.safetensors"


def _on_upload() -> None:
    key = f"{UPLOAD_KEY}_{st.session_state.get(UPLOAD_COUNTER, 0)}"
    uploaded = st.session_state.get(key)
    if uploaded is None:
        return
    data = uploaded.getvalue()
    try:
        model, info = model_from_bytes(data)
    except ModelFileError as exc:
        state.notify(f"**{md(uploaded.name)}** was not loaded: {md(exc, 400)}", "error")
        return
    base = plain(info.name) or plain(uploaded.name.rsplit(".", 1)[0]) or "model"
    name = unique_name(f"Uploaded: {base}", set(all_models()))
    dropped = state.add_user_model(ModelEntry(name=name, model=model, info=info, source="uploaded"))
    state.notify(f"Loaded **{md(name)}** ({model.describe()}); it is now the active model.", "success")
    if dropped:
        state.notify(dropped)
    st.session_state[UPLOAD_COUNTER] = st.session_state.get(UPLOAD_COUNTER, 0) + 1


def model_files_ui() -> None:
    """Download buttons for the user's models and one uploader."""
    models = state.user_models()
    if models:
        for entry in reversed(list(models.values())):
            c1, c2 = st.columns([3, 1])
            c1.markdown(f"**{md(entry.name)}** · {entry.summary()}")
            c2.download_button(
                "Download",
                entry.file_bytes,
                file_name=file_name(entry),
                mime="application/octet-stream",
                key=f"download_{entry.name}",
                on_click="ignore",
            )
    else:
        st.caption("Models you train or upload appear here, ready to download as .safetensors files.")
    st.file_uploader(
        f"Upload a model file (.safetensors, at most {MAX_FILE_BYTES // 2**20} MB)",
        key=f"{UPLOAD_KEY}_{st.session_state.get(UPLOAD_COUNTER, 0)}",
        on_change=_on_upload,
        help="Files saved by this app. Pickled PyTorch files (.pt/.pth) are refused: loading them can run code.",
    )

"""Download and upload of model files on the Train page; uploads are validated, never unpickled."""

from __future__ import annotations

from functools import lru_cache

import streamlit as st

from model.checkpoint import MAX_FILE_BYTES, ModelFileError, ModelInfo, model_from_bytes
from model.export import ExportError, export_notebook, export_script
from service.model_entry import ModelEntry, unique_name
from ui.session import state
from ui.session.models import all_models
from ui.session.workspace import keep_model
from ui.text import md, plain

UPLOAD_KEY = "model_upload"
UPLOAD_COUNTER = "model_upload_counter"  # bumping it gives a fresh, empty uploader


def file_name(entry: ModelEntry) -> str:
    return f"{entry.file_stem}.safetensors"


def export_names(entry: ModelEntry) -> tuple[str, str]:
    """The exported script's and notebook's file names, beside the model file's."""
    return f"{entry.file_stem}.py", f"{entry.file_stem}.ipynb"


@lru_cache(maxsize=64)
def _exports(info: ModelInfo) -> tuple[str, str] | str:
    """Script and notebook text, made once per model (a notebook takes a few ms); or why there are none."""
    try:
        return export_script(info), export_notebook(info)
    except ExportError as exc:
        return str(exc)


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
    before = set(state.user_models())
    dropped = keep_model(ModelEntry(name=name, model=model, info=info, source="uploaded"))
    if name in state.user_models() and name not in before:
        state.notify(f"Loaded **{md(name)}** ({model.describe()}); it is now the active model.", "success")
    if dropped:
        state.notify(dropped)
    st.session_state[UPLOAD_COUNTER] = st.session_state.get(UPLOAD_COUNTER, 0) + 1


def model_files_ui() -> None:
    """Download buttons for the user's models and one uploader."""
    models = state.user_models()
    if models:
        for entry in reversed(list(models.values())):
            c1, c2, c3, c4 = st.columns([3, 1, 1, 1])
            c1.markdown(f"**{md(entry.name)}** · {entry.summary()}")
            c2.download_button(
                "Download",
                entry.file_bytes,
                file_name=file_name(entry),
                mime="application/octet-stream",
                key=f"download_{entry.name}",
                on_click="ignore",
            )
            exports = _exports(entry.info)
            if isinstance(exports, str):  # settings from an uploaded file that no script can hold
                c3.caption(md(exports, 200))
                continue
            (script, notebook), (script_name, notebook_name) = exports, export_names(entry)
            c3.download_button(
                "Python script", script, file_name=script_name, mime="text/x-python",
                key=f"script_{entry.name}", on_click="ignore",
            )  # fmt: skip
            c4.download_button(
                "Notebook", notebook, file_name=notebook_name, mime="application/x-ipynb+json",
                key=f"notebook_{entry.name}", on_click="ignore",
            )  # fmt: skip
        st.caption(
            "Python script and Notebook: the same model and training settings as plain PyTorch code (torch and "
            "torchvision only), to train it again on MNIST anywhere with the same seed."
        )
    else:
        st.caption("Models you train or upload appear here, ready to download as .safetensors files.")
    st.file_uploader(
        f"Upload a model file (.safetensors, at most {MAX_FILE_BYTES // 2**20} MB)",
        key=f"{UPLOAD_KEY}_{st.session_state.get(UPLOAD_COUNTER, 0)}",
        on_change=_on_upload,
        help="Files saved by this app. Pickled PyTorch files (.pt/.pth) are refused: loading them can run code.",
    )

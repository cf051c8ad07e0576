"""Everything a user can get wrong gets a clear message, never a traceback, and nothing is lost."""

from __future__ import annotations

import io
import pickle
import time

import pytest
import torch
from safetensors.torch import save as st_save

from model.autoencoder import LinearAutoencoder
from model.checkpoint import MAX_FILE_BYTES, ModelInfo, model_to_bytes
from tests.app.conftest import open_page, texts, visible

UPLOADER = "model_upload_0"


def good_model_bytes(k: int = 3, name: str = "my upload") -> bytes:
    return model_to_bytes(LinearAutoencoder(k), ModelInfo(k, "none", 1, 0.05, None, name))


def upload(at, name: str, data: bytes):
    uploader = next(u for u in at.file_uploader if u.key.startswith("model_upload_"))
    uploader.set_value((name, data, "application/octet-stream")).run()
    assert not at.exception, at.exception
    return at


def error_text(at) -> str:
    return visible("\n".join(str(e.value) for e in at.error))


def torch_save_bytes() -> bytes:
    buffer = io.BytesIO()
    torch.save(LinearAutoencoder(3).state_dict(), buffer)
    return buffer.getvalue()


def wrong_shape_bytes() -> bytes:
    good = LinearAutoencoder(32).state_dict()
    good["encoder.weight"] = torch.zeros(10, 784)
    meta = {"format": "linear-autoencoder", "format_version": "1", "latent_dim": "32", "activation": "none"}
    return st_save(good, metadata=meta)


BAD_FILES = {
    "notes.txt": (b"hello, this is not a model", "not a safetensors model file"),
    "empty.safetensors": (b"", "empty"),
    "cut.safetensors": (good_model_bytes()[:300], "truncated"),
    "shapes.safetensors": (wrong_shape_bytes(), "shape"),
    "model.pt": (torch_save_bytes(), "pickle"),
    "model.pkl": (pickle.dumps({"weights": [1, 2, 3]}), "pickle"),
    "huge.safetensors": (b"\0" * (MAX_FILE_BYTES + 1), "at most"),
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_bad_upload_is_refused_and_nothing_is_lost(with_mnist, name):
    at = open_page("app_pages/train.py")
    upload(at, "good.safetensors", good_model_bytes())
    before = list(at.sidebar.selectbox[0].options)
    assert any("my upload" in o for o in before)
    data, phrase = BAD_FILES[name]
    upload(at, name, data)
    message = error_text(at)
    assert name in message and phrase in message.lower(), message
    assert list(at.sidebar.selectbox[0].options) == before, "a refused file changes nothing"
    assert "my upload" in at.sidebar.selectbox[0].value, "the active model is kept"


def test_good_upload_becomes_active_and_downloadable(with_mnist):
    at = open_page("app_pages/train.py")
    upload(at, "good.safetensors", good_model_bytes(k=5, name="five"))
    assert "Uploaded: five" in at.sidebar.selectbox[0].value
    assert "k=5" in texts(at)
    assert any(b.label == "Download" for b in at.get("download_button"))


def test_url_preset_applied(with_mnist):
    from streamlit.testing.v1 import AppTest

    from tests.app.conftest import ROOT

    at = AppTest.from_file(str(ROOT / "studio.py"), default_timeout=60)
    at.query_params.update({"k": "8", "epochs": "3", "noise": "gaussian", "level": "0.3"})
    at.run()
    at.switch_page("app_pages/train.py").run()
    assert not at.exception
    assert at.number_input(key="train_k").value == 8
    assert at.number_input(key="train_epochs").value == 3
    assert at.toggle(key="train_denoise").value is True
    assert at.selectbox(key="train_noise").value == "gaussian"


def test_bad_url_preset_falls_back_with_notice(with_mnist):
    from streamlit.testing.v1 import AppTest

    from tests.app.conftest import ROOT

    at = AppTest.from_file(str(ROOT / "studio.py"), default_timeout=60)
    at.query_params.update({"k": "-3", "epochs": "many", "bogus": "1"})
    at.run()
    assert not at.exception
    warning = visible("\n".join(str(w.value) for w in at.warning))
    assert "k='-3'" in warning and "epochs='many'" in warning and "bogus" in warning
    at.switch_page("app_pages/train.py").run()
    assert at.number_input(key="train_k").value == 32, "invalid values fall back to the defaults"


def train_until_done(at, timeout: float = 60.0):
    next(b for b in at.button if b.label == "Start").click().run()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert not at.exception, at.exception
        if at.success or at.error:  # a short run can end in the Start click's own run (it awaits the first snapshot)
            return at
        time.sleep(0.3)
        at.run()
    raise AssertionError("training did not end:\n" + texts(at))


@pytest.mark.parametrize("k", [1, 784])
def test_latent_size_edges_train(with_mnist, k):
    at = open_page("app_pages/train.py")
    at.number_input(key="train_k").set_value(k).run()
    at.number_input(key="train_epochs").set_value(1).run()
    train_until_done(at)
    assert f"k={k} linear, 1 epoch" in at.sidebar.selectbox[0].value


def test_batch_larger_than_dataset_trains(with_mnist):
    at = open_page("app_pages/train.py")
    at.number_input(key="train_epochs").set_value(2).run()
    at.number_input(key="train_batch").set_value(60_000).run()  # the generated set has 600 images
    train_until_done(at)
    assert "Finished" in texts(at)


def test_huge_learning_rate_says_diverged(with_mnist):
    at = open_page("app_pages/train.py")
    at.number_input(key="train_lr").set_value(10.0).run()
    at.number_input(key="train_batch").set_value(16).run()
    train_until_done(at)
    assert "diverged" in error_text(at) and "Lower the learning rate" in error_text(at)
    assert not any("k=32 linear, 10 epochs" in o for o in at.sidebar.selectbox[0].options), "no model kept"


def test_zero_learning_rate_warns_before_start(with_mnist):
    at = open_page("app_pages/train.py")
    at.number_input(key="train_lr").set_value(0.0).run()
    assert "learning rate is 0" in "\n".join(str(w.value) for w in at.warning)


def test_share_link_carries_the_current_settings_and_round_trips(with_mnist):
    """The Train page's link holds the changed settings; opening it applies them in a new session."""
    from urllib.parse import parse_qsl, urlsplit

    from streamlit.testing.v1 import AppTest

    from tests.app.conftest import ROOT, open_page

    at = open_page("app_pages/train.py")
    at.number_input(key="train_k").set_value(12).run()
    at.number_input(key="train_epochs").set_value(4).run()
    links = [str(m.value) for m in at.markdown if "/train?" in str(m.value)]
    assert len(links) == 1, links
    url = links[0].rsplit("](", 1)[1][:-1]  # "[url](url)" -> url
    query = dict(parse_qsl(urlsplit(url).query))
    assert query["k"] == "12" and query["epochs"] == "4"
    fresh = AppTest.from_file(str(ROOT / "studio.py"), default_timeout=60)
    fresh.query_params.update(query)
    fresh.run()
    fresh.switch_page("app_pages/train.py").run()
    assert not fresh.exception
    assert fresh.number_input(key="train_k").value == 12
    assert fresh.number_input(key="train_epochs").value == 4

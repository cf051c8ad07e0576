"""One fingerprint of a model's content and one of the loaded data, handed to every Streamlit cache that takes
them (`hash_funcs=HASH_FUNCS`), so a model is never hashed two ways nor keyed by its name."""

from __future__ import annotations

import hashlib
import weakref

from model.autoencoder import LinearAutoencoder
from model.data import Mnist

_KNOWN: weakref.WeakKeyDictionary[LinearAutoencoder, str] = weakref.WeakKeyDictionary()


def model_fingerprint(model: LinearAutoencoder) -> str:
    """A digest of the shape, activation, output and weights: two sessions' models that share a name never
    share a cache entry, and a model with the same content always does. Computed once per model object."""
    known = _KNOWN.get(model)
    if known is None:
        digest = hashlib.blake2b(f"{model.latent_dim}:{model.activation}:{model.output}".encode(), digest_size=16)
        for name, tensor in sorted(model.state_dict().items()):
            digest.update(name.encode())
            digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
        known = _KNOWN[model] = digest.hexdigest()
    return known


def data_fingerprint(mnist: Mnist) -> str:
    """Where the data came from and how many test digits it has: a generated test set never meets the real one."""
    return f"{mnist.source}#{len(mnist.test)}"


HASH_FUNCS = {LinearAutoencoder: model_fingerprint, Mnist: data_fingerprint}

"""Pure computations on latent codes: projections, nearest neighbours, interpolation, decoding grids.

No Streamlit and no plotly here: the Latent space and Compare pages call these and draw the results.
"""

from __future__ import annotations

import importlib.util
import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from model.autoencoder import SIDE, LinearAutoencoder

TSNE_MAX_POINTS = 1500  # t-SNE of 1,500 MNIST codes takes about 4.5 s on one core (2,000: 7.5 s)
TSNE_ITERATIONS = 500  # enough to settle; 1,000 (scikit-learn's default) costs 3x as long on MNIST codes


@dataclass(frozen=True)
class CodePca:
    """Principal directions of a set of latent codes, to look at k > 2 codes in 2-D or 3-D."""

    mean: torch.Tensor  # (k,)
    components: torch.Tensor  # (k, k): columns are directions, largest variance first
    variances: torch.Tensor  # (k,) variance of the codes along each direction

    def project(self, codes: torch.Tensor, dims: int = 2) -> torch.Tensor:
        """Coordinates of (N, k) codes on the first dims directions: (N, dims)."""
        return (codes.float() - self.mean) @ self.components[:, :dims]

    def explained(self, dims: int = 2) -> tuple[float, ...]:
        """Share of the codes' variance along each of the first dims directions."""
        total = float(self.variances.sum())
        if total <= 0:
            return tuple(0.0 for _ in range(min(dims, self.variances.shape[0])))
        return tuple(float(v) / total for v in self.variances[:dims])

    def code_at(self, steps: Sequence[float]) -> torch.Tensor:
        """The code at mean + sum_i steps[i] standard deviations along direction i: (k,)."""
        n = len(steps)
        scale = torch.as_tensor(list(steps), dtype=torch.float32) * self.variances[:n].clamp_min(0).sqrt()
        return self.mean + self.components[:, :n] @ scale


def fit_code_pca(codes: torch.Tensor) -> CodePca:
    """PCA of (N, k) codes by an eigendecomposition of their k x k covariance (float64)."""
    if codes.ndim != 2 or codes.shape[0] == 0:
        raise ValueError(f"Expected a non-empty (N, k) matrix of codes, got shape {tuple(codes.shape)}.")
    x = codes.double()
    mean = x.mean(dim=0)
    centered = x - mean  # (N, k)
    cov = centered.T @ centered / max(x.shape[0] - 1, 1)  # (k, k)
    variances, vectors = torch.linalg.eigh(cov)  # ascending
    variances, vectors = variances.flip(0).clamp_min(0), vectors.flip(1)
    # Fix each direction's sign (largest entry positive) so the picture does not flip between runs.
    signs = torch.sign(vectors[vectors.abs().argmax(dim=0), torch.arange(vectors.shape[1])])
    signs[signs == 0] = 1.0
    return CodePca(mean.float(), (vectors * signs).float(), variances.float())


def project_replay(frames: Sequence[torch.Tensor]) -> tuple[torch.Tensor, ...]:
    """Replay frames as the Latent page draws them: k <= 2 codes as they are, wider ones on the final codes' PCA.

    A kept model then holds (R, 2) points a frame instead of (R, k) codes: 176 KB for 11 frames at any k.
    """
    if not frames or frames[0].shape[1] <= 2:
        return tuple(frames)
    pca = fit_code_pca(frames[-1].float())  # the final layout's axes, kept for every epoch
    return tuple(pca.project(f) for f in frames)


def select_dims(codes: torch.Tensor, dims: Sequence[int]) -> torch.Tensor:
    """Chosen latent dimensions (0-based) of (N, k) codes: (N, len(dims)); refuses repeats and bad indices."""
    k = codes.shape[1]
    if len(set(dims)) != len(dims):
        raise ValueError("Pick different latent dimensions for the axes.")
    bad = [d for d in dims if not 0 <= d < k]
    if bad:
        raise ValueError(f"Latent dimensions go from 1 to {k}; {bad[0] + 1} does not exist.")
    return codes[:, list(dims)]


def strip_coords(values: torch.Tensor, labels: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """For k = 1: x is the code, y the digit label with a little jitter, so the classes stay apart: (N, 2)."""
    gen = torch.Generator().manual_seed(seed)
    jitter = (torch.rand(values.shape[0], generator=gen) - 0.5) * 0.6
    return torch.stack([values.reshape(-1).float(), labels.float() + jitter], dim=1)


def subset_order(n_total: int, seed: int = 0) -> torch.Tensor:
    """A fixed shuffle of 0..n_total-1: showing its first n points keeps every digit represented."""
    return torch.randperm(n_total, generator=torch.Generator().manual_seed(seed))


def nearest_neighbours(codes: torch.Tensor, query: torch.Tensor, n: int = 5) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices and Euclidean distances of the n codes closest to query (k,), nearest first."""
    if query.reshape(-1).shape[0] != codes.shape[1]:
        raise ValueError(f"The query has {query.numel()} numbers but the codes have {codes.shape[1]}.")
    d2 = ((codes.float() - query.reshape(1, -1).float()) ** 2).sum(dim=1)  # (N,)
    n = max(0, min(n, codes.shape[0]))
    dist, index = torch.topk(d2, n, largest=False)
    return index, dist.clamp_min(0).sqrt()


def interpolate(a: torch.Tensor, b: torch.Tensor, steps: int = 10) -> torch.Tensor:
    """Codes on the straight line from a to b, both ends included: (steps, k)."""
    if steps < 2:
        raise ValueError(f"An interpolation needs at least 2 steps, got {steps}.")
    if a.shape != b.shape:
        raise ValueError(f"Both ends need the same latent size, got {tuple(a.shape)} and {tuple(b.shape)}.")
    t = torch.linspace(0.0, 1.0, steps).reshape(-1, 1)  # (steps, 1)
    return (1 - t) * a.reshape(1, -1).float() + t * b.reshape(1, -1).float()


def populated_range(values: torch.Tensor, lo: float = 0.01, hi: float = 0.99, pad: float = 0.05) -> tuple[float, float]:
    """The interval holding most of the values (quantiles lo..hi), padded, never empty."""
    v = values.reshape(-1).float()
    a, b = (float(q) for q in torch.quantile(v, torch.tensor([lo, hi])))
    if not (np.isfinite(a) and np.isfinite(b)) or b - a < 1e-6:
        centre = a if np.isfinite(a) else 0.0
        return centre - 1.0, centre + 1.0
    margin = (b - a) * pad
    return a - margin, b + margin


def grid_points(x_range: tuple[float, float], y_range: tuple[float, float], n: int) -> torch.Tensor:
    """n x n points over the rectangle, row by row from the top (largest y) left to right: (n*n, 2)."""
    if n < 1:
        raise ValueError(f"A grid needs at least one point a side, got {n}.")
    xs = torch.linspace(x_range[0], x_range[1], n) if n > 1 else torch.tensor([sum(x_range) / 2])
    ys = torch.linspace(y_range[1], y_range[0], n) if n > 1 else torch.tensor([sum(y_range) / 2])
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")  # (n, n) each
    return torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1)


@torch.no_grad()
def decode_grid(
    model: LinearAutoencoder, x_range: tuple[float, float], y_range: tuple[float, float], n: int = 15
) -> torch.Tensor:
    """Decodings of an n x n grid over a k = 2 latent plane, in grid_points order: (n*n, 784)."""
    if model.latent_dim != 2:
        raise ValueError(f"A decoding grid needs a model with k = 2, this one has k = {model.latent_dim}.")
    return model.decode(grid_points(x_range, y_range, n))


def tile(images: torch.Tensor, n: int) -> torch.Tensor:
    """n x n images (n*n, 784), row by row, as one (n*28, n*28) picture without gaps."""
    if images.shape[0] != n * n:
        raise ValueError(f"Expected {n * n} images for a {n}x{n} tile, got {images.shape[0]}.")
    return images.reshape(n, n, SIDE, SIDE).permute(0, 2, 1, 3).reshape(n * SIDE, n * SIDE)


def manifold(
    model: LinearAutoencoder, x_range: tuple[float, float], y_range: tuple[float, float], n: int = 15
) -> torch.Tensor:
    """The classic 'manifold' picture: what a k = 2 decoder draws across the plane, (n*28, n*28) in [0, 1]."""
    return tile(decode_grid(model, x_range, y_range, n), n)


def tsne_2d(
    codes: np.ndarray, seed: int = 0, perplexity: float = 30.0, iterations: int = TSNE_ITERATIONS
) -> np.ndarray:
    """t-SNE of (N, k) codes to (N, 2) with scikit-learn on one thread (the server's policy)."""
    try:
        from sklearn.manifold import TSNE
        from threadpoolctl import threadpool_limits
    except ImportError as exc:  # optional dependency: the page offers t-SNE only when it imports
        raise RuntimeError("t-SNE needs scikit-learn (pip install -r requirements.txt).") from exc
    n = codes.shape[0]
    if n < 5:
        raise ValueError(f"t-SNE needs at least 5 points, got {n}.")
    perplexity = min(perplexity, (n - 1) / 3)
    with threadpool_limits(1):
        tsne = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed, n_jobs=1, max_iter=iterations)
        return tsne.fit_transform(np.asarray(codes, dtype=np.float32)).astype(np.float32)


def tsne_available() -> bool:
    """Whether scikit-learn is installed, without paying for its import (about a second) on every page."""
    return importlib.util.find_spec("sklearn") is not None and importlib.util.find_spec("threadpoolctl") is not None


def codes_csv(codes: torch.Tensor, labels: torch.Tensor) -> str:
    """The codes as CSV: one row per digit with its test-set index and label, then z1..zk."""
    k = codes.shape[1]
    table = np.column_stack([np.arange(codes.shape[0]), labels.numpy(), codes.detach().cpu().numpy()])
    out = io.StringIO()
    header = ",".join(["index", "label", *(f"z{i + 1}" for i in range(k))])
    np.savetxt(out, table, delimiter=",", header=header, comments="", fmt=["%d", "%d", *(["%.6g"] * k)])
    return out.getvalue()

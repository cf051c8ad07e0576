"""PCA of the training images, the linear reference the autoencoder is compared with."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Pca:
    mean: torch.Tensor  # (784,)
    components: torch.Tensor  # (784, 784): columns are principal directions, largest variance first
    variances: torch.Tensor  # (784,) variance along each direction

    def project(self, x: torch.Tensor, k: int) -> torch.Tensor:
        """Coordinates of (B, 784) images on the first k components: (B, k)."""
        return (x - self.mean) @ self.components[:, :k]

    def reconstruct(self, x: torch.Tensor, k: int) -> torch.Tensor:
        """Best rank-k linear reconstruction of (B, 784) images, unclamped."""
        return self.project(x, k) @ self.components[:, :k].T + self.mean

    def explained_ratio(self, k: int) -> float:
        """Share of the training variance the first k components keep."""
        return float(self.variances[:k].sum() / self.variances.sum())

    def mse_curve(self, x: torch.Tensor, max_k: int = 784) -> torch.Tensor:
        """Mean squared reconstruction error of x for every k = 1..max_k in one pass: (max_k,)."""
        centered = x.double() - self.mean.double()
        total = (centered**2).sum()
        captured = ((centered @ self.components[:, :max_k].double()) ** 2).sum(dim=0).cumsum(0)
        return ((total - captured) / centered.numel()).float().clamp_min(0.0)

    def mse(self, x: torch.Tensor, k: int) -> float:
        """Mean squared reconstruction error of x at k components."""
        return float(self.mse_curve(x, k)[k - 1])


def fit_pca(x: torch.Tensor) -> Pca:
    """PCA by an SVD of the covariance matrix (float32 product, float64 decomposition)."""
    mean = x.double().mean(dim=0)
    centered = x.float() - mean.float()  # (N, 784)
    cov = (centered.T @ centered).double() / max(x.shape[0] - 1, 1)  # (784, 784)
    u, s, _ = torch.linalg.svd(cov)
    # Fix each direction's sign (largest entry positive) so results do not flip between runs.
    signs = torch.sign(u[u.abs().argmax(dim=0), torch.arange(u.shape[1])])
    signs[signs == 0] = 1.0
    return Pca(mean.float(), (u * signs).float(), s.float())

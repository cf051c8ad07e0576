"""Latent-space computations: projection (against an SVD), neighbours (against brute force), interpolation, grids."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from model.autoencoder import LinearAutoencoder
from model.latent import (
    codes_csv,
    decode_grid,
    fit_code_pca,
    grid_points,
    interpolate,
    manifold,
    nearest_neighbours,
    populated_range,
    project_replay,
    select_dims,
    strip_coords,
    subset_order,
    tile,
    tsne_2d,
    tsne_available,
)


@pytest.fixture
def codes() -> torch.Tensor:
    gen = torch.Generator().manual_seed(0)
    scale = torch.tensor([5.0, 3.0, 1.0, 0.5, 0.1])
    return torch.randn(400, 5, generator=gen) * scale + torch.tensor([1.0, -2.0, 0.0, 3.0, 0.5])


def test_code_pca_matches_svd(codes):
    pca = fit_code_pca(codes)
    centered = codes.double() - codes.double().mean(0)
    _, s, vh = torch.linalg.svd(centered, full_matrices=False)
    expected_var = (s**2 / (codes.shape[0] - 1)).float()
    torch.testing.assert_close(pca.variances, expected_var, rtol=1e-4, atol=1e-5)
    for i in range(5):  # same directions up to sign
        assert abs(float(pca.components[:, i].double() @ vh[i])) == pytest.approx(1.0, abs=1e-4)
    proj = pca.project(codes, 2)
    assert proj.shape == (400, 2)
    torch.testing.assert_close(proj.mean(0), torch.zeros(2), atol=1e-4, rtol=0)
    assert float(proj[:, 0].var()) == pytest.approx(float(pca.variances[0]), rel=1e-4)


def test_code_pca_explained_and_code_at(codes):
    pca = fit_code_pca(codes)
    ratios = pca.explained(5)
    assert sum(ratios) == pytest.approx(1.0, abs=1e-6)
    assert list(ratios) == sorted(ratios, reverse=True)
    torch.testing.assert_close(pca.code_at([0.0, 0.0]), pca.mean)
    one_sd = pca.code_at([1.0])
    step = one_sd - pca.mean
    assert float(step.norm()) == pytest.approx(float(pca.variances[0].sqrt()), rel=1e-5)
    torch.testing.assert_close(pca.project(one_sd[None], 1)[0, 0], pca.variances[0].sqrt(), rtol=1e-5, atol=1e-5)


def test_code_pca_is_deterministic_in_sign(codes):
    a, b = fit_code_pca(codes), fit_code_pca(codes.clone())
    torch.testing.assert_close(a.components, b.components)


def test_code_pca_of_constant_codes_does_not_divide_by_zero():
    pca = fit_code_pca(torch.ones(10, 3))
    assert pca.explained(2) == (0.0, 0.0)
    assert torch.isfinite(pca.project(torch.ones(10, 3), 2)).all()


def test_code_pca_refuses_empty():
    with pytest.raises(ValueError, match="non-empty"):
        fit_code_pca(torch.zeros(0, 3))


def test_select_dims(codes):
    torch.testing.assert_close(select_dims(codes, (2, 0)), codes[:, [2, 0]])
    with pytest.raises(ValueError, match="different"):
        select_dims(codes, (1, 1))
    with pytest.raises(ValueError, match="from 1 to 5"):
        select_dims(codes, (0, 5))


def test_strip_coords_keeps_values_and_separates_labels():
    values, labels = torch.arange(6.0), torch.tensor([0, 1, 2, 0, 1, 2])
    xy = strip_coords(values, labels)
    torch.testing.assert_close(xy[:, 0], values)
    assert ((xy[:, 1] - labels.float()).abs() <= 0.3).all()


def test_subset_order_is_a_fixed_permutation():
    a, b = subset_order(1000), subset_order(1000)
    assert torch.equal(a, b) and sorted(a.tolist()) == list(range(1000))


def test_nearest_neighbours_match_brute_force(codes):
    query = codes[17] + 0.01
    index, dist = nearest_neighbours(codes, query, 5)
    brute = torch.cdist(codes.double(), query.double()[None])[:, 0]
    order = torch.argsort(brute)[:5]
    assert index.tolist() == order.tolist()
    torch.testing.assert_close(dist.double(), brute[order], rtol=1e-4, atol=1e-4)
    assert index[0] == 17


def test_nearest_neighbours_with_few_codes_and_bad_query(codes):
    index, dist = nearest_neighbours(codes[:3], codes[0], 5)
    assert len(index) == 3 and len(dist) == 3
    with pytest.raises(ValueError, match="numbers"):
        nearest_neighbours(codes, torch.zeros(4))


def test_interpolate_ends_and_even_steps():
    a, b = torch.tensor([0.0, 10.0]), torch.tensor([9.0, 1.0])
    path = interpolate(a, b, 10)
    assert path.shape == (10, 2)
    torch.testing.assert_close(path[0], a)
    torch.testing.assert_close(path[-1], b)
    steps = path[1:] - path[:-1]
    torch.testing.assert_close(steps, steps[:1].expand_as(steps))
    with pytest.raises(ValueError, match="at least 2"):
        interpolate(a, b, 1)
    with pytest.raises(ValueError, match="same latent size"):
        interpolate(a, torch.zeros(3))


def test_populated_range_covers_most_points_and_never_empties():
    values = torch.cat([torch.linspace(0, 1, 1000), torch.tensor([100.0])])  # one outlier
    lo, hi = populated_range(values)
    assert lo < 0.02 and 0.98 < hi < 2.0, "the outlier is left out"
    assert populated_range(torch.full((10,), 3.0)) == (2.0, 4.0)


def test_grid_points_order_top_row_first():
    pts = grid_points((0.0, 2.0), (10.0, 20.0), 3)
    assert pts.shape == (9, 2)
    assert pts[0].tolist() == [0.0, 20.0] and pts[2].tolist() == [2.0, 20.0] and pts[-1].tolist() == [2.0, 10.0]
    assert grid_points((0.0, 2.0), (0.0, 4.0), 1).tolist() == [[1.0, 2.0]]
    with pytest.raises(ValueError):
        grid_points((0, 1), (0, 1), 0)


def test_decode_grid_matches_decoding_each_point():
    torch.manual_seed(0)
    model = LinearAutoencoder(2).eval()
    images = decode_grid(model, (-1.0, 1.0), (-2.0, 2.0), 4)
    assert images.shape == (16, 784)
    with torch.no_grad():
        expected = model.decode(grid_points((-1.0, 1.0), (-2.0, 2.0), 4))
    torch.testing.assert_close(images, expected)
    with pytest.raises(ValueError, match="k = 2"):
        decode_grid(LinearAutoencoder(3), (0, 1), (0, 1), 2)


def test_tile_and_manifold_place_images_row_by_row():
    images = torch.zeros(4, 784)
    for i in range(4):
        images[i] = i / 3
    picture = tile(images, 2)
    assert picture.shape == (56, 56)
    assert float(picture[0, 0]) == 0.0 and float(picture[0, 30]) == pytest.approx(1 / 3)
    assert float(picture[30, 0]) == pytest.approx(2 / 3) and float(picture[55, 55]) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        tile(images, 3)
    model = LinearAutoencoder(2).eval()
    assert manifold(model, (0, 1), (0, 1), 15).shape == (420, 420)


@pytest.mark.skipif(not tsne_available(), reason="scikit-learn is not installed")
def test_tsne_keeps_clusters_apart():
    rng = np.random.default_rng(0)
    a = rng.normal(0, 0.1, size=(60, 8))
    b = rng.normal(5, 0.1, size=(60, 8))
    xy = tsne_2d(np.concatenate([a, b]).astype(np.float32), seed=0)
    assert xy.shape == (120, 2) and xy.dtype == np.float32
    gap = np.linalg.norm(xy[:60].mean(0) - xy[60:].mean(0))
    spread = max(xy[:60].std(0).max(), xy[60:].std(0).max())
    assert gap > 3 * spread
    with pytest.raises(ValueError, match="at least 5"):
        tsne_2d(np.zeros((3, 2), dtype=np.float32))


def test_codes_csv_has_one_row_per_digit_with_label_and_code():
    import csv
    import io

    codes = torch.tensor([[0.5, -1.25], [2.0, 3.0], [0.0, 1e-3]])
    labels = torch.tensor([7, 1, 0])
    rows = list(csv.reader(io.StringIO(codes_csv(codes, labels))))
    assert rows[0] == ["index", "label", "z1", "z2"]
    assert rows[1] == ["0", "7", "0.5", "-1.25"] and rows[3] == ["2", "0", "0", "0.001"]
    assert len(rows) == 4


def test_project_replay_gives_what_the_page_drew_from_the_raw_codes(codes):
    """Kept replays hold 2-D points; the page's own PCA of them changes nothing (same picture as before)."""
    frames = [(codes + 0.1 * i).half() for i in range(3)]
    projected = project_replay(frames)
    pca = fit_code_pca(frames[-1].float())
    for raw, flat in zip(frames, projected, strict=True):
        assert flat.shape == (codes.shape[0], 2)
        torch.testing.assert_close(flat, pca.project(raw))
        again = fit_code_pca(projected[-1]).project(flat)  # what replay_ui does with the stored frames
        torch.testing.assert_close(again, flat, atol=1e-4, rtol=1e-4)
    narrow = [codes[:, :2].half()]
    assert project_replay(narrow)[0] is narrow[0], "k <= 2 codes are drawn as they are"
    assert project_replay([]) == ()

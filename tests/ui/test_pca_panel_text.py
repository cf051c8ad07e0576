"""The panel's gap to PCA reads sensibly where PCA is exact (k near 784)."""

from ui.views.train_pca import _gap_text


def test_gap_is_a_percentage_where_pca_has_an_error() -> None:
    assert _gap_text(0.0170, 0.0168) == "+1.19% vs PCA"
    assert _gap_text(None, 0.0168) == "after the first epoch"


def test_gap_where_pca_is_exact_is_an_absolute_difference() -> None:
    assert _gap_text(0.0021, 0.0) == "+0.0021 vs PCA's exact 0"

from model.plural import plural


def test_one_is_singular_everything_else_plural() -> None:
    assert plural(1, "component") == "1 component"
    assert plural(784, "component") == "784 components"
    assert plural(0, "epoch") == "0 epochs"
    assert plural(1, "nearest test digit") == "1 nearest test digit"
    assert plural(2, "direction") == "2 directions"
    assert plural(10_000, "digit") == "10,000 digits"
    assert plural(3, "match", "matches") == "3 matches"

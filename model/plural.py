"""Counted nouns for every message: '1 component', '784 components', '1 number'."""

from __future__ import annotations


def plural(count: int, noun: str, plural_form: str | None = None) -> str:
    """`count` and the noun, singular for exactly one ('1 epoch', '0 epochs', '2 epochs')."""
    word = noun if count == 1 else (plural_form or noun + "s")
    return f"{count:,} {word}"

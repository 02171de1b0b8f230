"""Exact arithmetic for published figures (domain.md §6.5-§6.7): values from the stored
numerator and denominator, half-up rounding with ``Decimal`` (never binary floats), capaian by
direction, Indonesian number format, and disclosure control."""

from __future__ import annotations

import decimal
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal

SUPPRESS_BELOW = 5  # counts of 1-4 are shown as "<5"


def value_of(
    numerator: Decimal | None, denominator: Decimal | None, scale: int, places: int = 2
) -> Decimal | None:
    """numerator ÷ denominator x scale (a count when there is no denominator), rounded half-up;
    None when it cannot be computed."""
    if numerator is None:
        return None
    if denominator is None:
        raw = Decimal(numerator) * scale
    elif denominator == 0:
        return None
    else:
        with decimal.localcontext() as context:
            context.prec = 40
            raw = Decimal(numerator) * scale / Decimal(denominator)
    return round_half_up(raw, places)


def round_half_up(value: Decimal, places: int = 2) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def capaian(realisasi: Decimal | None, target: Decimal | None, direction: str) -> Decimal | None:
    """Achievement against the target: higher-is-better realisasi ÷ target x 100;
    lower-is-better (2 x target - realisasi) ÷ target x 100 (Permendagri 86/2017)."""
    if realisasi is None or target is None or target == 0 or direction not in ("higher", "lower"):
        return None
    with decimal.localcontext() as context:
        context.prec = 40
        if direction == "higher":
            raw = realisasi / target * 100
        else:
            raw = (2 * target - realisasi) / target * 100
    return round_half_up(raw)


def format_id(value: Decimal | None, places: int = 2) -> str:
    """Indonesian number format: ``32,83``, ``1.234,50``; ``—`` for no value."""
    if value is None:
        return "—"
    text = f"{value:,.{places}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def is_small(count: Decimal | int | None) -> bool:
    return count is not None and 0 < count < SUPPRESS_BELOW


def suppressed(numerator: Decimal | None, denominator: Decimal | None) -> bool:
    """A count of 1-4 is suppressed, and a percentage or rate computed from such a count (its
    numerator, or a denominator of victims) is marked."""
    return is_small(numerator) or is_small(denominator)


def suppress_table(cells: Mapping[str, int], *, total_shown: bool = True) -> dict[str, bool]:
    """Which cells of one row (category → count) are hidden: every count of 1-4 and — when the
    row's total is shown and exactly one cell is hidden, so it could be recomputed from the
    total — also the smallest other non-zero cell (secondary suppression)."""
    hidden = {key: is_small(count) for key, count in cells.items()}
    if total_shown and sum(hidden.values()) == 1:
        others = sorted(
            (count, key) for key, count in cells.items() if not hidden[key] and count > 0
        )
        if others:
            hidden[others[0][1]] = True
    return hidden

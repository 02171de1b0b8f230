"""Exact arithmetic for published figures (domain.md §6.5-§6.6): values from the stored
numerator and denominator, half-up rounding with ``Decimal`` (never binary floats), capaian by
direction, Indonesian number format. Disclosure control (§6.7) is ``disclosure.py``."""

from __future__ import annotations

import decimal
from decimal import ROUND_HALF_UP, Decimal


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


def suppressed(numerator: Decimal | None, denominator: Decimal | None) -> bool:
    """``disclosure.rate_is_marked`` (for ``queries.Figure.suppressed``)."""
    # local: app.indicators.disclosure imports this module
    from app.indicators.disclosure import rate_is_marked

    return rate_is_marked(numerator, denominator)

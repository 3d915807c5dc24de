"""Numbers typed by people or carried in URLs: ASCII digits only. Hours as everyone shows them.

Python's `str.isdigit()`, `int()` and the regex `\\d` each accept a different set of
Unicode digits ("²" passes `isdigit()` and fails `int()`, "١٢" passes both), so a check
made with one and a conversion made with another can disagree and fail with a 500."""

import re
from decimal import ROUND_HALF_UP, Decimal

ASCII_DIGITS = re.compile(r"[0-9]+")
FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def ascii_digits(text) -> bool:
    """Whether `text` is one or more of the digits 0-9 and nothing else."""
    return isinstance(text, str) and ASCII_DIGITS.fullmatch(text) is not None


def whole_number(text, *, max_digits: int = 18) -> int | None:
    """The number `text` spells in 1 to `max_digits` ASCII digits, or None.
    Eighteen digits stay within a 64-bit database integer."""
    if not ascii_digits(text) or len(text) > max_digits:
        return None
    return int(text)


def hours(seconds) -> Decimal:
    """Seconds as hours, the one way every page, export, reminder and transcript rounds them: one
    decimal, halves up (5580 s, 1.55 h, is 1.6 everywhere; floats would make it 1.6 here and 1.5 there)."""
    return (Decimal(int(seconds or 0)) / 3600).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def hours_text(seconds) -> str:
    """`hours` as shown: "1.6", "4.0"."""
    return f"{hours(seconds)}"

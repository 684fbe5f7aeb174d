"""Plain-number grammar: find numbers in text, read them as exact rationals, compare them.

Handles `1,000`, `-3`, `0.50`, `.5`, `1/2`, `1e5`, currency signs and the unicode minus. Numbers
are read as `fractions.Fraction` (exact); literals too large to read safely (over `MAX_DIGITS`
digits or an exponent over `MAX_EXPONENT`) fall back to a float comparison with a tolerance, or to
their normalised literal.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

MAX_DIGITS = 400
MAX_EXPONENT = 400

_MINUSES = "-−–"
_NUMBER_CHARS = frozenset("0123456789,./eE")  # hyphen-minus, unicode minus, en dash
_BODY = r"(?:[0-9]{1,3}(?:,[0-9]{3})+(?![0-9])|[0-9]+)(?:\.[0-9]+)?|\.[0-9]+"
NUMBER_RE = re.compile(
    rf"(?P<sign>(?<![\w)\]}}.])[{_MINUSES}+])?"
    r"(?P<cur>[$€£¥₹]\s?)?"
    rf"(?P<num>{_BODY})"
    r"(?:\s?/\s?(?P<den>[0-9]+(?:\.[0-9]+)?)(?![0-9,]))?"
    r"(?:[eE](?P<exp>[-+]?[0-9]{1,4})(?![0-9]))?"
)
_FULL_NUMBER_RE = re.compile(
    rf"\s*[$€£¥₹]?\s*(?P<sign>[{_MINUSES}+])?\s*[$€£¥₹]?\s*(?P<num>{_BODY})"
    r"(?:\s*/\s*(?P<den>[0-9]+(?:\.[0-9]+)?))?(?:[eE](?P<exp>[-+]?[0-9]{1,4}))?"
    r"\s*(?:%|percent)?\s*\.?\s*"
)


def _to_value(sign: str | None, num: str, den: str | None, exp: str | None) -> Fraction | str:
    """An exact value for the parts of a number literal, or its normalised literal if too big."""
    num = num.replace(",", "")
    negative = bool(sign) and sign != "+"
    too_big = len(num) > MAX_DIGITS or (den is not None and len(den) > MAX_DIGITS)
    if too_big or (exp is not None and abs(int(exp)) > MAX_EXPONENT):
        literal = num + (f"/{den}" if den else "") + (f"e{int(exp)}" if exp else "")
        return ("-" if negative else "") + literal
    if num.isdigit():
        value = Fraction(int(num))
    else:
        whole, _, decimals = num.partition(".")
        value = Fraction(int(whole or "0") * 10 ** len(decimals) + int(decimals or "0"))
        value /= 10 ** len(decimals)
    if den is not None:
        denominator = Fraction(den)
        if denominator == 0:
            return ("-" if negative else "") + f"{num}/{den}"
        value /= denominator
    if exp is not None:
        value *= Fraction(10) ** int(exp)
    return -value if negative else value


def value_of_match(match: re.Match[str]) -> Fraction | str:
    """The value of a `NUMBER_RE` (or `_FULL_NUMBER_RE`) match."""
    return _to_value(match["sign"], match["num"], match["den"], match["exp"])


def parse_number(text: str) -> Fraction | str | None:
    """Read `text` as one whole number literal (currency, `%`, a trailing period allowed)."""
    if len(text) > 4 * MAX_DIGITS:
        return None
    match = _FULL_NUMBER_RE.fullmatch(text)
    return value_of_match(match) if match else None


def find_numbers(text: str) -> list[re.Match[str]]:
    """All number literals in `text`, in order."""
    return list(NUMBER_RE.finditer(text))


def first_number(text: str) -> Fraction | str | None:
    """The value of the first number literal in `text`."""
    match = NUMBER_RE.search(text)
    return value_of_match(match) if match else None


def last_number(text: str) -> Fraction | str | None:
    """The value of the number literal that holds the last digit of `text`."""
    pos = max(map(text.rfind, "0123456789"))
    if pos < 0:
        return None
    start, stop = pos, max(0, pos - 2 * MAX_DIGITS)
    while start > stop and text[start - 1] in _NUMBER_CHARS:
        start -= 1
    last = None
    for last in NUMBER_RE.finditer(text, max(0, start - 4), pos + 1):  # noqa: B007
        pass
    return value_of_match(last) if last else None


def canonical(value: Fraction | str) -> str:
    """A canonical string: `1000`, `-3`, `0.5`, `1/3`; over-large literals stay as they are."""
    if isinstance(value, str):
        return value
    if value.denominator == 1:
        return str(value.numerator)
    den = value.denominator
    twos = fives = 0
    while den % 2 == 0:
        den //= 2
        twos += 1
    while den % 5 == 0:
        den //= 5
        fives += 1
    if den != 1:
        return f"{value.numerator}/{value.denominator}"
    places = max(twos, fives)
    scaled = abs(value.numerator) * (10**places // value.denominator)
    digits = str(scaled).rjust(places + 1, "0")
    sign = "-" if value < 0 else ""
    return f"{sign}{digits[:-places]}.{digits[-places:]}".rstrip("0").rstrip(".")


def _as_float(value: Fraction | str) -> float | None:
    if isinstance(value, Fraction):
        try:
            return float(value)
        except OverflowError:
            return math.inf if value > 0 else -math.inf
    try:
        body = value.lstrip("-")
        num, _, exp = body.partition("e")
        num, _, den = num.partition("/")
        mantissa = float(num) / float(den) if den else float(num)
        result = mantissa * 10.0 ** int(exp) if exp else mantissa
    except (ValueError, OverflowError, ZeroDivisionError):
        return None
    return -result if value.startswith("-") else result


def numbers_equal(
    a: Fraction | str, b: Fraction | str, rel_tol: float = 0.0, decimals: int | None = None
) -> bool:
    """Exact comparison of two values; a relative tolerance where either could not be exact.
    With `decimals`, values within half a unit of that decimal place are equal (exactly)."""
    if decimals is not None and isinstance(a, Fraction) and isinstance(b, Fraction):
        return abs(a - b) <= Fraction(1, 2 * 10**decimals)
    if isinstance(a, Fraction) and isinstance(b, Fraction) and (a == b or rel_tol <= 0):
        return a == b
    if isinstance(a, str) and isinstance(b, str) and a == b:
        return True
    fa, fb = _as_float(a), _as_float(b)
    if fa is None or fb is None or not (math.isfinite(fa) and math.isfinite(fb)):
        return False
    abs_tol = 0.5 * 10.0**-decimals if decimals is not None else 0.0
    return math.isclose(fa, fb, rel_tol=max(rel_tol, 1e-9), abs_tol=abs_tol)

"""Simple values for the corpus oracle's sampler (bench/compat_oracle.py): sample values of
the built-in types, values on the edges of a restriction's facets, and the check that a
value satisfies them. Shares nothing with xmlcompat."""

from __future__ import annotations

import re
from decimal import Decimal

#: A few valid values of each built-in type the sampler may meet.
BUILTIN_SAMPLES = {
    "string": ["", "a", "abc", "Hello World", "x" * 20],
    "normalizedString": ["a b", "z"],
    "token": ["tok", "a b"],
    "language": ["en", "de-CH"],
    "anyURI": ["http://e.org/a", "urn:x"],
    "int": ["0", "1", "-7", "42", "2147483647"],
    "integer": ["0", "5", "-12", "123456789012"],
    "long": ["0", "99"],
    "short": ["3", "-3"],
    "byte": ["1"],
    "unsignedByte": ["2"],
    "positiveInteger": ["1", "7", "1000"],
    "nonNegativeInteger": ["0", "9"],
    "decimal": ["0", "1.5", "-2.25", "123.45", "99999.9"],
    "double": ["1.5", "-0.25", "INF"],
    "float": ["2.5"],
    "boolean": ["true", "false", "1"],
    "date": ["2024-02-29", "1999-12-31"],
    "dateTime": ["2024-02-29T10:00:00", "2001-01-01T00:00:00Z"],
    "time": ["12:30:00"],
    "ID": ["id1"],
    "IDREF": ["id1"],
    "NCName": ["n1"],
    "Name": ["nm"],
    "QName": ["q"],
    "base64Binary": ["QUJD"],
    "hexBinary": ["0A1B"],
    "gYear": ["2020"],
    "duration": ["P1D"],
    "unsignedInt": ["5"],
    "anySimpleType": ["any"],
    "NMTOKEN": ["tk"],
}


def edges(f) -> list[str]:
    """Values on the edges of facets `f` ({name: value}): the lengths, bounds and digit
    counts a tightened facet is most likely to refuse."""
    out = []
    for key in ("length", "minLength", "maxLength"):
        if key in f and int(f[key]) <= 5000:  # .NET writes maxLength 2147483647 for "no limit"
            out.append("e" * int(f[key]))
    for key in ("minInclusive", "maxInclusive"):
        if key in f:
            out.append(f[key])
    if "minExclusive" in f:
        out += [
            str(Decimal(f["minExclusive"]) + 1),
            str(Decimal(f["minExclusive"]) + Decimal("0.1")),
        ]
    if "maxExclusive" in f:
        out += [
            str(Decimal(f["maxExclusive"]) - 1),
            str(Decimal(f["maxExclusive"]) - Decimal("0.1")),
        ]
    if "totalDigits" in f:
        t, fd = int(f["totalDigits"]), int(f.get("fractionDigits", 0))
        out.append(
            "9" * (t - fd) + ("." + "9" * fd if fd else "") if t > fd else "0." + "9" * t
        )
        out.append("1" * max(1, t - fd))
    if "fractionDigits" in f:
        out.append("1." + "5" * max(1, int(f["fractionDigits"])))
    return out

def fits(v: str, f) -> bool:
    """Whether `v` satisfies facets `f` (lengths, pattern, bounds, digits)."""
    if "length" in f and len(v) != int(f["length"]):
        return False
    if "minLength" in f and len(v) < int(f["minLength"]):
        return False
    if "maxLength" in f and len(v) > int(f["maxLength"]):
        return False
    if "pattern" in f:
        try:
            if not re.fullmatch(f["pattern"], v):
                return False
        except re.error:
            return False
    bounds = [
        k for k in ("minInclusive", "maxInclusive", "minExclusive", "maxExclusive") if k in f
    ]
    if bounds or "totalDigits" in f or "fractionDigits" in f:
        try:
            d = Decimal(v)
        except ArithmeticError:  # decimal.InvalidOperation: not a number
            return not bounds
        checks = {
            "minInclusive": lambda b: d >= b,
            "maxInclusive": lambda b: d <= b,
            "minExclusive": lambda b: d > b,
            "maxExclusive": lambda b: d < b,
        }
        if not all(checks[k](Decimal(f[k])) for k in bounds):
            return False
        digits = d.normalize().as_tuple()
        frac = max(0, -digits.exponent)
        if "fractionDigits" in f and frac > int(f["fractionDigits"]):
            return False
        if "totalDigits" in f and len(digits.digits) > int(f["totalDigits"]):
            return False
    return True

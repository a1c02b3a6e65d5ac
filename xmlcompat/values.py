"""Simple types as value spaces: candidate values, and inclusion L(A) ⊆ L(B) of two types.

Decided exactly: equal definitions; B a plain string (accepts every text); A finite
(enumeration, boolean: every value tried on B); same built-in family with bounds, lengths,
digits, whiteSpace and enumeration compared facet by facet, and B's patterns found among A's.
Otherwise candidate values of A (boundaries, lengths, pattern samples, whitespace variants)
are tried on B: one that A accepts and B rejects is a witness; none found → "unknown" with
the reason (e.g. two different patterns). Validity of a value is xmlschema's, the witness
document built from it is then checked by lxml.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from xmlschema.namespaces import NamespaceMapper
from xmlschema.validators.validation import ValidationContext

from xmlcompat.regexgen import strings_for

XS = "http://www.w3.org/2001/XMLSchema"
INTEGERS = {"integer", "nonPositiveInteger", "negativeInteger", "long", "int", "short", "byte",
            "nonNegativeInteger", "unsignedLong", "unsignedInt", "unsignedShort", "unsignedByte",
            "positiveInteger"}
SAMPLES = {
    "boolean": ["true", "false", "1", "0"], "float": ["0", "1.5", "-1", "INF", "NaN", "1E5"],
    "double": ["0", "1.5", "-1", "INF", "NaN", "1E300"],
    "dateTime": ["2000-01-01T00:00:00", "2000-01-01T00:00:00Z"], "date": ["2000-01-01"],
    "time": ["00:00:00"], "duration": ["P1D"], "gYear": ["2000"], "gYearMonth": ["2000-01"],
    "gMonth": ["--01"], "gMonthDay": ["--01-01"], "gDay": ["---01"], "hexBinary": ["00", ""],
    "base64Binary": ["AAAA", ""], "anyURI": ["x", "http://example.com/x"], "QName": ["x"],
    "NOTATION": [], "language": ["en", "en-GB"],
}
STRINGS = ["", "x", "x y", " x ", "0", "1", "-1", "a" * 300, "x1", "true", "2000-01-01"]
ID_TYPES = {"ID", "IDREF", "IDREFS", "ENTITY", "ENTITIES"}


@lru_cache(maxsize=8192)
def builtin_chain(st) -> list[str]:
    """Local names of the built-in types `st` derives from, most derived first."""
    out = []
    t = st
    while t is not None:
        name = getattr(t, "name", None)
        if name and name.startswith(f"{{{XS}}}"):
            out.append(name.split("}", 1)[1])
        base = getattr(t, "base_type", None)
        if base is t:
            break
        t = base
    return out


def variety(st) -> str:
    if getattr(st, "is_list", lambda: False)():
        return "list"
    if getattr(st, "is_union", lambda: False)():
        return "union"
    return "atomic"


@dataclass
class Facets:
    builtin: str
    enumeration: list | None
    patterns: list              # one list of regexes per restriction step
    lengths: tuple              # (min, max) with None = unbounded
    lower: tuple | None         # (value, inclusive)
    upper: tuple | None
    total_digits: int | None
    fraction_digits: int | None
    white_space: str | None


@lru_cache(maxsize=8192)
def facets(st) -> Facets:
    chain = builtin_chain(st)
    enum = None
    patterns, lo_len, hi_len = [], 0, None
    lower = upper = None
    td = fd = None
    t = st
    while t is not None:
        f = getattr(t, "facets", None) or {}
        for key, facet in f.items():
            if key is None:
                continue
            local = key.split("}", 1)[1]
            value = getattr(facet, "value", None)
            if local == "enumeration" and enum is None:
                enum = [str(v) for v in (getattr(facet, "enumeration", None) or [])]
            elif local == "pattern":
                patterns.append(sorted(facet.regexps))
            elif local == "length":
                lo_len, hi_len = max(lo_len, value), value if hi_len is None else min(hi_len, value)
            elif local == "minLength":
                lo_len = max(lo_len, value)
            elif local == "maxLength":
                hi_len = value if hi_len is None else min(hi_len, value)
            elif local in ("minInclusive", "minExclusive"):
                cand = (Decimal(str(value)) if _numeric(value) else value, local == "minInclusive")
                lower = cand if lower is None else _tighter(lower, cand, True)
            elif local in ("maxInclusive", "maxExclusive"):
                cand = (Decimal(str(value)) if _numeric(value) else value, local == "maxInclusive")
                upper = cand if upper is None else _tighter(upper, cand, False)
            elif local == "totalDigits":
                td = value if td is None else min(td, value)
            elif local == "fractionDigits":
                fd = value if fd is None else min(fd, value)
        base = getattr(t, "base_type", None)
        t = None if base is t else base
    if chain and chain[0] in INTEGERS or (chain and any(c == "integer" for c in chain)):
        fd = 0 if fd is None else fd
    return Facets(chain[0] if chain else "anySimpleType", enum, patterns, (lo_len, hi_len),
                  lower, upper, td, fd, getattr(st, "white_space", None))


def _numeric(value) -> bool:
    try:
        Decimal(str(value))
        return not isinstance(value, bool)
    except (InvalidOperation, ValueError):
        return False


def _tighter(a, b, is_lower: bool):
    try:
        if a[0] == b[0]:
            return a if not a[1] else b
        return (max if is_lower else min)((a, b), key=lambda x: x[0])
    except TypeError:
        return a


_contexts = threading.local()


def _context(st):
    """A validation context reused for every value checked against `st`'s schema set in this
    thread: xmlschema's `is_valid` builds a resource and a context per call (~0.4 ms, most of
    a large pair's decision time), while the context only has to be cleared between values."""
    cache = _contexts.__dict__.setdefault("by_maps", {})
    key = id(st.maps)
    entry = cache.get(key)
    if entry is None or entry[0] is not st.maps:
        if len(cache) > 64:
            cache.clear()
        source = st.maps.settings.get_resource_from_data("x", None)
        entry = cache[key] = (st.maps, ValidationContext(
            source=source, converter=NamespaceMapper(None, source=source)))
    entry[1].clear()
    return entry[1]


@lru_cache(maxsize=65536)
def is_valid(st, text: str) -> bool:
    """xmlschema's verdict on `text` as a value of `st` (as `st.is_valid(text)`)."""
    try:
        context = _context(st)
        st.raw_decode(text, "lax", context)
        return not context.errors
    except Exception:  # noqa: BLE001 - xmlschema raises on values it cannot even decode
        return False


@lru_cache(maxsize=8192)
def candidates(st, limit: int = 60) -> list[str]:
    """Values to try for `st`, valid ones first in order of simplicity (not all are valid)."""
    kind = variety(st)
    if kind == "list":
        items = candidates(st.item_type, 6)
        raw = [""] + items[:3] + [" ".join(items[:2]), " ".join(items[:3] * 2)]
    elif kind == "union":
        raw = [v for m in st.member_types for v in candidates(m, 12)]
    else:
        f = facets(st)
        raw = list(f.enumeration or [])
        for step in f.patterns:
            for regex in step:
                try:
                    raw += strings_for(regex, max(6, limit // 2))
                except (ValueError, re.error, OverflowError, RecursionError):
                    pass            # an XSD regex construct the generator does not handle
        chain = builtin_chain(st)
        if "decimal" in chain or "float" in chain or "double" in chain:
            raw += _numbers(f)
        for name in chain:
            raw += SAMPLES.get(name, [])
        raw += STRINGS + _lengths(f)
    seen, out = set(), []
    for v in raw:
        v = str(v)
        if v not in seen:
            seen.add(v)
            out.append(v)
    # whitespace variants: a type that collapses accepts them, one that preserves may not
    more = [f" {v} " for v in out[:10] if v] + [v.replace(" ", "  ") for v in out[:10] if " " in v]
    out += [v for v in more if v not in seen]
    return out[:limit * 2]


def _numbers(f: Facets) -> list[str]:
    out = ["0", "1", "-1", "0.5", "10", "100", "-100", "99999", "1000000"]
    for bound in (f.lower, f.upper):
        if bound is not None and isinstance(bound[0], Decimal):
            v = bound[0]
            out += [str(v), str(v + 1), str(v - 1), str(v + Decimal("0.5")), str(v - Decimal("0.5"))]
    if f.total_digits:
        out += ["9" * f.total_digits, "9" * (f.total_digits + 1)]
    if f.fraction_digits is not None:
        out += ["0." + "1" * (f.fraction_digits + 1), "0." + "1" * max(f.fraction_digits, 1)]
    return out


def _lengths(f: Facets) -> list[str]:
    lo, hi = f.lengths
    out = ["a" * lo] if lo else []
    for n in {lo - 1, lo + 1, hi - 1 if hi else None, hi, hi + 1 if hi is not None else None}:
        if n is not None and 0 <= n <= 100_000:     # .NET writes maxLength 1073741823
            out.append("a" * n)
    return out


def valid_values(st, limit: int = 20) -> list[str]:
    return [v for v in candidates(st, limit) if is_valid(st, v)][:limit]


@dataclass
class Inclusion:
    ok: bool | None             # True included, False not (value is the witness), None unknown
    value: str | None = None
    reason: str = ""


@lru_cache(maxsize=65536)
def included(a, b, a_fixed: str | None = None, b_fixed: str | None = None) -> Inclusion:
    """Is every lexical value the (fixed-constrained) type `a` accepts also accepted by `b`?
    (xmlschema types hash by identity: the caches here are per pair of type objects.)"""
    if b_fixed is not None:
        values = [a_fixed] if a_fixed is not None else valid_values(a, 40)
        # an empty element takes the fixed value as its default, so "" proves nothing
        values = [v for v in values if v.strip() or a_fixed is not None]
        for v in values:
            if is_valid(a, v) and not _fixed_equal(b, v, b_fixed):
                return Inclusion(False, v, f"value must be the fixed {b_fixed!r}")
        if a_fixed is None:
            return Inclusion(None, None, f"fixed value {b_fixed!r} added; no other value of the old type found")
    if a_fixed is not None:
        ok = is_valid(b, a_fixed)
        return Inclusion(ok, None if ok else a_fixed, "" if ok else "fixed value rejected")
    if a is b or signature(a) == signature(b):
        return Inclusion(True)
    witness = _sample_witness(a, b)
    if witness is not None:
        return Inclusion(False, witness, "value rejected")
    return _prove(a, b)


def _fixed_equal(st, value: str, fixed: str) -> bool:
    if " ".join(value.split()) == " ".join(fixed.split()):
        return True
    try:
        return st.decode(value) == st.decode(fixed)
    except Exception:  # noqa: BLE001 - a value the type cannot decode is not its fixed value
        return False


def _sample_witness(a, b) -> str | None:
    """The shortest candidate value A accepts and B rejects (short witnesses read best)."""
    values = candidates(a)
    if variety(b) == "atomic":
        # B's own boundaries give the shortest values just outside it
        fb = facets(b)
        values = values + _lengths(fb) + (_numbers(fb) if _is_num(fb) else [])
    found = [v for v in values if is_valid(a, v) and not is_valid(b, v)]
    return min(found, key=len) if found else None


@lru_cache(maxsize=8192)
def signature(st) -> tuple:
    """Equal signatures mean equal definitions, hence equal value spaces."""
    kind = variety(st)
    if kind == "list":
        return ("list", signature(st.item_type), repr(facets_of_list(st)))
    if kind == "union":
        return ("union",) + tuple(signature(m) for m in st.member_types)
    f = facets(st)
    return ("atomic", tuple(builtin_chain(st)), f.enumeration and tuple(f.enumeration),
            tuple(map(tuple, f.patterns)), f.lengths, f.lower, f.upper, f.total_digits,
            f.fraction_digits, f.white_space)


def facets_of_list(st):
    f = getattr(st, "facets", None) or {}
    return sorted((str(k), repr(getattr(v, "value", None))) for k, v in f.items() if k)


def _prove(a, b) -> Inclusion:
    ka, kb = variety(a), variety(b)
    fb = facets(b) if kb == "atomic" else None
    # string, normalizedString and token differ only in whitespace normalisation, which is
    # applied before validation: without further facets each accepts every text
    if kb == "atomic" and fb.builtin in ("string", "normalizedString", "token", "anySimpleType") and not (
            fb.enumeration or fb.patterns or fb.lengths != (0, None)):
        return Inclusion(True)
    if ka == "union":
        parts = [included(m, b) for m in a.member_types]
        if all(p.ok for p in parts):
            return Inclusion(True)
        return Inclusion(None, None, "union member types not each included")
    if kb == "union":
        for m in b.member_types:
            if _prove(a, m).ok:
                return Inclusion(True)
        return Inclusion(None, None, "inclusion in a union decided only member by member")
    if ka == "list" or kb == "list":
        if ka != kb:
            return Inclusion(None, None, "list type against an atomic type")
        item = included(a.item_type, b.item_type)
        if item.ok is False:
            return Inclusion(False, item.value, f"list item {item.value!r} rejected")
        fa, fb = facets(a), facets(b)
        if item.ok and _len_in(fa.lengths, fb.lengths) and not fb.patterns and not fb.enumeration:
            return Inclusion(True)
        return Inclusion(item.ok and None, None, "list item types or list facets not decided")
    fa = facets(a)
    if fa.enumeration is not None or fa.builtin == "boolean":
        # finite: every value was tried by _sample_witness (candidates lists them first)
        return Inclusion(True)
    reasons = []
    widened = fa.builtin == "float" and fb.builtin == "double"
    if fb.builtin not in builtin_chain(a) and not widened and not (_is_num(fa) and _is_num(fb)):
        reasons.append(f"built-in type {fa.builtin} against {fb.builtin}")
    if fb.enumeration is not None:
        reasons.append("enumeration in the new type, none in the old")
    for step in fb.patterns:
        # patterns of one restriction step are alternatives: B's step holds for every value
        # of A when some step of A has only alternatives that B's step also has
        if not any(set(step_a) <= set(step) for step_a in fa.patterns):
            reasons.append(f"pattern {' | '.join(step)!r} not among the old type's patterns "
                           "(regular-language inclusion of patterns not decided)")
    # B normalising more than A only shortens values: harmless unless B has a minimum
    # length or patterns (which see the normalised value)
    strength = {"preserve": 0, "replace": 1, "collapse": 2, None: 0}
    shorter_only = strength[fb.white_space] >= strength[fa.white_space] and fb.lengths[0] == 0
    if fb.white_space != fa.white_space and (fb.patterns or (fb.lengths != (0, None) and not shorter_only)):
        reasons.append(f"whiteSpace {fa.white_space} against {fb.white_space} with length or pattern facets")
    if not _len_in(fa.lengths, fb.lengths):
        reasons.append(_length_reason(fa.lengths, fb.lengths))
    if not _range_in(fa, fb):
        reasons.append("value bounds")
    more_digits = fb.total_digits is not None and (fa.total_digits is None or fa.total_digits > fb.total_digits)
    if more_digits and not _bounded_digits(fa, fb.total_digits):
        reasons.append("totalDigits")
    if fb.fraction_digits is not None and (fa.fraction_digits is None or fa.fraction_digits > fb.fraction_digits):
        reasons.append("fractionDigits")
    if fb.builtin in ID_TYPES and fa.builtin != fb.builtin:
        reasons.append(f"{fb.builtin} adds document-wide constraints")
    if reasons:
        return Inclusion(None, None, "; ".join(reasons))
    return Inclusion(True)


def _is_num(f: Facets) -> bool:
    return f.builtin in INTEGERS or f.builtin == "decimal"


def _length_reason(a, b) -> str:
    """Why length facets stay undecided: candidate values are capped at 100,000 characters
    (`_lengths`), so a value only a longer string shows (.NET writes maxLength 2147483647)
    is named rather than written."""
    if b[1] is not None and (a[1] is None or a[1] > b[1]):
        return (f"length facets: the old type allows {b[1] + 1:,} characters and more, the new "
                f"one at most {b[1]:,}, and a witness value that long is not written")
    return f"length facets {a} against {b} (no witness value found)"


def _len_in(a, b) -> bool:
    return a[0] >= b[0] and (b[1] is None or (a[1] is not None and a[1] <= b[1]))


def _range_in(fa: Facets, fb: Facets) -> bool:
    def implicit(f):
        lo, hi = f.lower, f.upper
        limits = {"byte": (-128, 127), "short": (-32768, 32767), "int": (-2**31, 2**31 - 1),
                  "long": (-2**63, 2**63 - 1), "unsignedByte": (0, 255), "unsignedShort": (0, 65535),
                  "unsignedInt": (0, 2**32 - 1), "unsignedLong": (0, 2**64 - 1),
                  "nonNegativeInteger": (0, None), "positiveInteger": (1, None),
                  "nonPositiveInteger": (None, 0), "negativeInteger": (None, -1)}
        if f.builtin in limits:
            blo, bhi = limits[f.builtin]
            if blo is not None and lo is None:
                lo = (Decimal(blo), True)
            if bhi is not None and hi is None:
                hi = (Decimal(bhi), True)
        if f.fraction_digits == 0:     # integers: exclusive bounds become inclusive ones
            if lo is not None and isinstance(lo[0], Decimal) and not lo[1]:
                lo = (lo[0].__floor__() + 1, True)
            if hi is not None and isinstance(hi[0], Decimal) and not hi[1]:
                hi = (hi[0].__ceil__() - 1, True)
        return lo, hi

    alo, ahi = implicit(fa)
    blo, bhi = implicit(fb)
    try:
        if blo is not None and (alo is None or alo[0] < blo[0]
                                or (alo[0] == blo[0] and alo[1] and not blo[1])):
            return False
        if bhi is not None and (ahi is None or ahi[0] > bhi[0]
                                or (ahi[0] == bhi[0] and ahi[1] and not bhi[1])):
            return False
    except TypeError:
        return False
    return True


def _bounded_digits(fa: Facets, digits: int) -> bool:
    """An integer range that fits in `digits` digits needs no totalDigits of its own."""
    if fa.fraction_digits != 0 or fa.lower is None or fa.upper is None:
        return False
    try:
        top = max(abs(fa.lower[0]), abs(fa.upper[0]))
    except TypeError:
        return False
    return top < Decimal(10) ** digits


def describe(st) -> str:
    """A short text of a simple type's definition, for change details."""
    if variety(st) != "atomic":
        return variety(st)
    f = facets(st)
    parts = [f.builtin]
    if f.enumeration is not None:
        parts.append("enum{" + ",".join(f.enumeration) + "}")
    if f.lengths != (0, None):
        parts.append(f"length[{f.lengths[0]},{'' if f.lengths[1] is None else f.lengths[1]}]")
    if f.lower:
        parts.append(("≥" if f.lower[1] else ">") + str(f.lower[0]))
    if f.upper:
        parts.append(("≤" if f.upper[1] else "<") + str(f.upper[0]))
    for step in f.patterns:
        parts.append("pattern " + "|".join(step))
    if f.total_digits is not None:
        parts.append(f"totalDigits {f.total_digits}")
    return " ".join(parts)

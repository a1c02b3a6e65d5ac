"""Strings matching an XSD pattern: the pattern is translated to a Python regex by
elementpath (the translation xmlschema validates with), parsed by Python's own regex parser
and walked to produce matching strings; each result is checked with the compiled regex."""

from __future__ import annotations

import random
import re
import re._constants as C
import re._parser as P

from elementpath.regex import translate_pattern

_PRINTABLE = [chr(c) for c in range(0x21, 0x7F)] + [" "]
_CATEGORY = {
    C.CATEGORY_DIGIT: "0123456789", C.CATEGORY_NOT_DIGIT: "aZ_-.",
    C.CATEGORY_SPACE: " ", C.CATEGORY_NOT_SPACE: "aZ0",
    C.CATEGORY_WORD: "aZ0_", C.CATEGORY_NOT_WORD: "-. ",
}


def xsd_regex(pattern: str) -> re.Pattern:
    # the translation anchors the whole pattern, as XSD patterns always are
    return re.compile(translate_pattern(pattern, xsd_version="1.0", anchors=False))


def _chars(items, rng: random.Random) -> str | None:
    negate = any(op == C.NEGATE for op, _ in items)
    pool: list[str] = []
    for op, av in items:
        if op == C.LITERAL:
            pool.append(chr(av))
        elif op == C.RANGE:
            lo, hi = av
            ascii_part = [c for c in range(max(lo, 0x30), min(hi, 0x7A) + 1) if chr(c).isalnum()]
            # readable witnesses: ASCII letters and digits when the range has some
            picks = ascii_part[:1] + ascii_part[-1:] if ascii_part else [lo, hi, lo + (hi - lo) // 2]
            pool.extend(chr(c) for c in picks)
        elif op == C.CATEGORY:
            pool.extend(_CATEGORY.get(av, "a"))
    if not negate:
        readable = [c for c in pool if c.isascii() and c.isalnum()]
        pool = readable or pool
        return rng.choice(pool) if pool else None
    matcher = re.compile(_render_class(items))
    options = [c for c in _PRINTABLE if matcher.fullmatch(c)]
    return rng.choice(options) if options else None


def _render_class(items) -> str:
    parts = []
    neg = ""
    for op, av in items:
        if op == C.NEGATE:
            neg = "^"
        elif op == C.LITERAL:
            parts.append(re.escape(chr(av)))
        elif op == C.RANGE:
            parts.append(f"{re.escape(chr(av[0]))}-{re.escape(chr(av[1]))}")
        elif op == C.CATEGORY:
            parts.append({C.CATEGORY_DIGIT: r"\d", C.CATEGORY_NOT_DIGIT: r"\D", C.CATEGORY_SPACE: r"\s",
                          C.CATEGORY_NOT_SPACE: r"\S", C.CATEGORY_WORD: r"\w",
                          C.CATEGORY_NOT_WORD: r"\W"}.get(av, ""))
    return f"[{neg}{''.join(parts)}]"


class _Gen:
    def __init__(self, rng: random.Random, minimal: bool, extra: int):
        self.rng, self.minimal, self.extra = rng, minimal, extra

    def seq(self, items) -> str:
        return "".join(self.node(op, av) for op, av in items)

    def node(self, op, av) -> str:
        if op == C.LITERAL:
            return chr(av)
        if op == C.NOT_LITERAL:
            return next(c for c in "aZ0 x" if ord(c) != av)
        if op == C.ANY:
            return "a"
        if op == C.IN:
            c = _chars(av, self.rng)
            if c is None:
                raise ValueError("empty class")
            return c
        if op == C.BRANCH:
            branches = av[1]
            pick = branches[0] if self.minimal else self.rng.choice(branches)
            return self.seq(pick)
        if op == C.SUBPATTERN:
            return self.seq(av[-1])
        if op in (C.MAX_REPEAT, C.MIN_REPEAT, getattr(C, "POSSESSIVE_REPEAT", None)):
            lo, hi, body = av
            if self.minimal:
                n = lo
            else:
                top = lo + self.extra if hi == C.MAXREPEAT else min(hi, lo + self.extra)
                n = self.rng.randint(lo, max(lo, top))
            return "".join(self.seq(body) for _ in range(n))
        if op in (C.AT, C.GROUPREF, C.ASSERT, C.ASSERT_NOT):
            return ""
        if op == C.CATEGORY:
            return _CATEGORY.get(av, "a")[0]
        raise ValueError(f"regex construct {op} not generated")


def strings_for(pattern: str, count: int = 6, seed: int = 0) -> list[str]:
    """Up to `count` distinct strings matching the XSD `pattern` (the shortest first)."""
    compiled = xsd_regex(pattern)
    parsed = P.parse(translate_pattern(pattern, xsd_version="1.0", anchors=False))
    rng = random.Random(seed)
    out: list[str] = []
    for attempt in range(count * 4):
        gen = _Gen(rng, minimal=attempt == 0, extra=1 + attempt % 4)
        try:
            text = gen.seq(parsed)
        except (ValueError, StopIteration):
            continue
        if compiled.match(text) and text not in out:
            out.append(text)
            if len(out) >= count:
                break
    return out

"""Random strings matching an XSD pattern, for the corpus oracle (bench/compat_oracle.py):
Python's own regex parser gives the tree, a small walk picks characters and repetitions.
Kept apart from xmlcompat.regexgen on purpose: the oracle shares no code with the checker."""

from __future__ import annotations

import random
import re

try:
    from re import _constants as sre_c
    from re import _parser as sre_parse
except ImportError:  # pragma: no cover
    import sre_constants as sre_c
    import sre_parse


def regex_sample(pattern: str, rng: random.Random) -> str | None:
    try:
        tree = sre_parse.parse(pattern.replace("\\i", "[A-Za-z_]").replace("\\c", "[A-Za-z0-9_.-]"))
    except (re.error, ValueError, TypeError, OverflowError):  # a pattern Python cannot read
        return None

    def gen(items) -> str:
        out = []
        for op, av in items:
            if op == sre_c.LITERAL:
                out.append(chr(av))
            elif op == sre_c.NOT_LITERAL:
                out.append("q" if chr(av) != "q" else "r")
            elif op == sre_c.ANY:
                out.append("z")
            elif op == sre_c.IN:
                chars = []
                negate = False
                for kind, v in av:
                    if kind == sre_c.NEGATE:
                        negate = True
                    elif kind == sre_c.LITERAL:
                        chars.append(chr(v))
                    elif kind == sre_c.RANGE:
                        chars.extend(chr(c) for c in range(v[0], min(v[1], v[0] + 60) + 1))
                    elif kind == sre_c.CATEGORY:
                        chars.extend(
                            {
                                sre_c.CATEGORY_DIGIT: "0123456789",
                                sre_c.CATEGORY_SPACE: " ",
                                sre_c.CATEGORY_WORD: "abcXYZ_1",
                            }.get(v, "k")
                        )
                if negate:
                    chars = [c for c in "abcxyz019 -" if c not in chars]
                out.append(rng.choice(chars) if chars else "a")
            elif op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT):
                low, high, sub = av
                high = min(high, low + 4)
                out.extend(gen(sub) for _ in range(rng.randint(low, high)))
            elif op == sre_c.SUBPATTERN:
                out.append(gen(av[-1]))
            elif op == sre_c.BRANCH:
                out.append(gen(rng.choice(av[1])))
            elif op == sre_c.CATEGORY:
                out.append({sre_c.CATEGORY_DIGIT: "7", sre_c.CATEGORY_SPACE: " "}.get(av, "w"))
        return "".join(out)

    return gen(tree)

"""Schematron tests as normalised boolean terms, and a sound (incomplete) implication test.

A test (XPath 1.0, parsed by elementpath's XPath1Parser) becomes a tuple tree:
  ("and", (…)), ("or", (…)), ("not", x), ("true",), ("false",),
  ("cmp", op, left, right), ("exists", path), ("fn", name, args), ("truthy", term)
Normal form: negation pushed inward (de Morgan), and/or flattened, deduplicated and sorted
(commutativity), literals on the right of comparisons (operator turned around), and
`count(p) > 0` read as "p exists". `not(a > b)` becomes `a <= b` only where XPath 1.0 allows
it: both sides single numbers that cannot be NaN (count(), string-length(), literals…). On
node-sets comparisons are existential (`not(x > 1)` is "no x above 1", not "some x <= 1"), so
there the `not` stays an atom.

`implies(a, b, facts)` answers True only when a ⇒ b is certain; False means "not shown".
"""

from __future__ import annotations

import math

from elementpath import XPath1Parser

TRUE = ("true",)
FALSE = ("false",)
_FLIP = {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "=": "=", "!=": "!="}
_NEGATE = {"<": ">=", ">": "<=", "<=": ">", ">=": "<", "=": "!=", "!=": "="}
# Functions whose value is one number that is never NaN: comparisons on them negate safely.
_INTEGRAL_FUNCTIONS = {"count", "string-length", "position", "last"}
_STRING_FUNCTIONS = {
    "string",
    "name",
    "local-name",
    "namespace-uri",
    "normalize-space",
    "concat",
    "substring",
    "substring-before",
    "substring-after",
    "translate",
}
_BOOLEAN_FUNCTIONS = {"contains", "starts-with", "lang"}
_AXES = {
    "child",
    "attribute",
    "descendant",
    "descendant-or-self",
    "self",
    "parent",
    "ancestor",
    "ancestor-or-self",
    "following",
    "following-sibling",
    "preceding",
    "preceding-sibling",
    "namespace",
}
_MAX_LET_DEPTH = 20


class XPathRuleError(ValueError):
    """A test or context that cannot be read as XPath 1.0."""


class _Converter:
    def __init__(self, namespaces: dict[str, str], lets: dict[str, str]):
        self.namespaces = dict(namespaces)
        self.lets = lets
        self.names: set[tuple[str, str]] = set()  # ("element"|"attribute", "{ns}local"|"local")
        self._depth = 0
        self._in_predicate = 0  # > 0 while converting a predicate: another context node

    def parse(self, expr: str):
        try:
            return XPath1Parser(namespaces=self.namespaces, strict=False).parse(expr)
        except Exception as exc:  # noqa: BLE001 — elementpath raises many error classes; one message for all
            raise XPathRuleError(f"{expr!r}: {exc}") from None

    # -- names --------------------------------------------------------------------------
    def _qname(self, tok, kind: str) -> str:
        if tok.symbol == "(name)":
            name = tok.value
        elif tok.symbol == ":":
            prefix, local = tok[0].value, (tok[1].value if tok[1].symbol == "(name)" else "*")
            if prefix not in self.namespaces:
                raise XPathRuleError(f"unknown namespace prefix {prefix!r}")
            name = f"{{{self.namespaces[prefix]}}}{local}"
        elif tok.symbol == "*":
            name = "*"
        else:  # node(), text()… : kind tests name nothing
            return tok.symbol + "()"
        if not name.endswith("*"):
            self.names.add((kind, name))
        return name

    # -- terms (values) -----------------------------------------------------------------
    def term(self, tok):
        s = tok.symbol
        if s in ("(name)", ":", "*") or s in ("node", "text", "comment", "processing-instruction"):
            return ("step", "child", self._qname(tok, "element"))
        if s == "@":
            return ("step", "attribute", self._qname(tok[0], "attribute"))
        if s in _AXES and len(tok) == 1 and tok.__class__.__name__.endswith("Symbol"):
            kind = "attribute" if s == "attribute" else "element"
            return ("step", s, self._qname(tok[0], kind))
        if s == ".":
            return ("self",)
        if s == "..":
            return ("parent",)
        if s in ("/", "//"):
            if len(tok) == 1:
                return ("root" + s, self.term(tok[0]))
            return (s, self.term(tok[0]), self.term(tok[1]))
        if s == "[":
            base, pred = tok[0], tok[1]
            if pred.symbol in ("(integer)", "(decimal)", "(float)"):
                return ("pred", self.term(base), ("position", float(pred.value)))
            self._in_predicate += 1
            try:
                return ("pred", self.term(base), self.boolean(pred))
            finally:
                self._in_predicate -= 1
        if s == "|":
            return ("union", tuple(sorted({self.term(c) for c in tok}, key=repr)))
        if s in ("(integer)", "(decimal)", "(float)"):
            return ("num", float(tok.value))
        if s == "(string)":
            return ("str", tok.value)
        if s == "(":
            return self.term(tok[0])
        if s == "$":
            return self.variable(tok[0].value, boolean=False)
        if s == "-" and len(tok) == 1:
            inner = self.term(tok[0])
            return ("num", -inner[1]) if inner[0] == "num" else ("neg", inner)
        if s in ("+", "-", "*", "div", "mod") and len(tok) == 2:
            left, right = self.term(tok[0]), self.term(tok[1])
            if s in ("+", "*"):
                left, right = sorted((left, right), key=repr)
            return ("arith", s, left, right)
        if s in ("and", "or", "not", "=", "!=", "<", "<=", ">", ">=", "true", "false", "boolean"):
            return ("boolterm", self.boolean(tok))
        return ("fn", s, tuple(self.term(c) for c in tok))

    def variable(self, name: str, *, boolean: bool):
        if name not in self.lets:
            return ("var", name) if not boolean else ("truthy", ("var", name))
        self._depth += 1
        if self._depth > _MAX_LET_DEPTH:
            raise XPathRuleError(f"let ${name} refers to itself")
        try:
            tok = self.parse(self.lets[name])
            if self._in_predicate:
                # A let is evaluated at the rule's context node; inside a predicate the context
                # is another node, so the text cannot be inlined there (`@id = $parent` is not
                # `@id = @parent`). Literals mean the same everywhere; anything else stays a
                # value of its own, equal only to the same value.
                outer, self._in_predicate = self._in_predicate, 0
                try:
                    value = self.term(tok)
                finally:
                    self._in_predicate = outer
                if value[0] not in ("num", "str"):
                    value = ("let", value)
                return ("truthy", value) if boolean else value
            return self.boolean(tok) if boolean else self.term(tok)
        finally:
            self._depth -= 1

    # -- booleans -----------------------------------------------------------------------
    def boolean(self, tok):
        s = tok.symbol
        if s in ("and", "or"):
            return _junction(s, [self.boolean(c) for c in tok])
        if s == "not":
            return negate(self.boolean(tok[0]))
        if s == "true":
            return TRUE
        if s == "false":
            return FALSE
        if s in ("boolean", "("):
            return self.boolean(tok[0])
        if s == "$":
            return self.variable(tok[0].value, boolean=True)
        if s in _FLIP and len(tok) == 2:
            return comparison(s, self.term(tok[0]), self.term(tok[1]))
        if s in _BOOLEAN_FUNCTIONS:
            return ("fn", s, tuple(self.term(c) for c in tok))
        t = self.term(tok)
        if t[0] == "boolterm":
            return t[1]
        if _is_path(t):
            return ("exists", t)
        return ("truthy", t)


def _is_path(t) -> bool:
    return t[0] in ("step", "self", "parent", "/", "//", "root/", "root//", "pred", "union")


def _is_literal(t) -> bool:
    return t[0] in ("num", "str")


def _integral(t) -> bool:
    return t[0] == "fn" and t[1] in _INTEGRAL_FUNCTIONS or (t[0] == "num" and t[1] == int(t[1]))


def _scalar_number(t) -> bool:
    """One number that is never NaN: `not(a < b)` is `a >= b` for these."""
    if t[0] == "num" or (t[0] == "fn" and t[1] in _INTEGRAL_FUNCTIONS):
        return True
    return t[0] == "arith" and t[1] in ("+", "-", "*") and all(_scalar_number(x) for x in t[2:])


def _scalar_string(t) -> bool:
    return t[0] == "str" or (t[0] == "fn" and t[1] in _STRING_FUNCTIONS)


def comparison(op: str, left, right):
    """A comparison with the literal (or the simpler side) on the right."""
    if (
        _is_literal(left)
        and not _is_literal(right)
        or (not _is_literal(right) and repr(left) > repr(right) and op in ("=", "!="))
    ):
        left, right, op = right, left, _FLIP[op]
    if left[0] == "fn" and left[1] == "count" and right[0] == "num" and len(left[2]) == 1:
        n, path = right[1], left[2][0]
        # count(p) > 0 is "p exists": one form for the many ways of writing it
        if (op == ">" and 0 <= n < 1) or (op == ">=" and 0 < n <= 1) or (op == "!=" and n == 0):
            return ("exists", path)
        if (op == "<" and 0 < n <= 1) or (op == "<=" and 0 <= n < 1) or (op == "=" and n == 0):
            return ("not", ("exists", path))
    return ("cmp", op, left, right)


def negate(x):
    """Negation normal form: de Morgan through and/or; comparisons turned where types allow."""
    kind = x[0]
    if kind == "true":
        return FALSE
    if kind == "false":
        return TRUE
    if kind == "not":
        return x[1]
    if kind in ("and", "or"):
        return _junction("or" if kind == "and" else "and", [negate(c) for c in x[1]])
    if kind == "cmp":
        _, op, left, right = x
        if (_scalar_number(left) and _scalar_number(right)) or (
            op in ("=", "!=") and _scalar_string(left) and _scalar_string(right)
        ):
            return comparison(_NEGATE[op], left, right)
    return ("not", x)


def _junction(kind: str, parts):
    flat = []
    for p in parts:
        flat.extend(p[1] if p[0] == kind else (p,))
    unit, zero = (TRUE, FALSE) if kind == "and" else (FALSE, TRUE)
    if zero in flat:
        return zero
    items = sorted({p for p in flat if p != unit}, key=repr)
    if not items:
        return unit
    if len(items) == 1:
        return items[0]
    return (kind, tuple(items))


def parse_test(expr: str, namespaces: dict[str, str], lets: dict[str, str] | None = None):
    """Returns (normalised boolean term, names used: {("element"|"attribute", qname)})."""
    conv = _Converter(namespaces, lets or {})
    tree = conv.boolean(conv.parse(expr))
    return tree, conv.names


def parse_context(expr: str, namespaces: dict[str, str], lets: dict[str, str] | None = None):
    """A rule context (an XSLT pattern): its canonical term and the names it uses."""
    conv = _Converter(namespaces, lets or {})
    return conv.term(conv.parse(expr)), conv.names


def last_step(term) -> tuple[str, str] | None:
    """The axis and name of the node a path ends on (what a rule context selects)."""
    kind = term[0]
    if kind == "step":
        return term[1], term[2]
    if kind in ("/", "//"):
        return last_step(term[2])
    if kind in ("root/", "root//"):
        return last_step(term[1])
    if kind == "pred":
        return last_step(term[1])
    return None


def show(x) -> str:
    """A readable XPath-like rendering of a normalised term (for details and docs)."""
    k = x[0]
    if k in ("true", "false"):
        return k + "()"
    if k in ("and", "or"):
        return "(" + f" {k} ".join(show(c) for c in x[1]) + ")"
    if k == "not":
        return f"not({show(x[1])})"
    if k == "cmp":
        return f"{show(x[2])} {x[1]} {show(x[3])}"
    if k == "exists":
        return show(x[1])
    if k == "truthy":
        return f"boolean({show(x[1])})"
    if k == "step":
        prefix = "@" if x[1] == "attribute" else ("" if x[1] == "child" else x[1] + "::")
        return prefix + x[2]
    if k == "self":
        return "."
    if k == "parent":
        return ".."
    if k in ("/", "//"):
        return show(x[1]) + k + show(x[2])
    if k in ("root/", "root//"):
        return k[4:] + show(x[1])
    if k == "pred":
        inner = x[2]
        return f"{show(x[1])}[{int(inner[1]) if inner[0] == 'position' else show(inner)}]"
    if k == "union":
        return " | ".join(show(c) for c in x[1])
    if k == "num":
        return str(int(x[1])) if x[1] == int(x[1]) else repr(x[1])
    if k == "str":
        return repr(x[1])
    if k == "var":
        return "$" + x[1]
    if k == "let":
        return f"$({show(x[1])})"
    if k == "neg":
        return "-" + show(x[1])
    if k == "arith":
        return f"({show(x[2])} {x[1]} {show(x[3])})"
    if k == "boolterm":
        return show(x[1])
    if k == "fn":
        return f"{x[1]}({', '.join(show(a) for a in x[2])})"
    return repr(x)


# -- implication -------------------------------------------------------------------------
class NoFacts:
    """What a schema guarantees about a rule's context; nothing, when no schema is given."""

    def min_occurs(self, path) -> int | None:
        return None

    def max_occurs(self, path) -> float | None:
        return None


def implies(a, b, facts=None, _depth: int = 0) -> bool:
    """True when every context node satisfying `a` satisfies `b` (given the schema facts)."""
    facts = facts or NoFacts()
    if a == b or b == TRUE or a == FALSE or _depth > 12:
        return a == b or b == TRUE or a == FALSE
    if holds(b, facts):
        return True
    d = _depth + 1
    if b[0] == "and":
        return all(implies(a, c, facts, d) for c in b[1])
    if a[0] == "or":
        return all(implies(c, b, facts, d) for c in a[1])
    if b[0] == "or" and any(implies(a, c, facts, d) for c in b[1]):
        return True
    if a[0] == "and" and any(implies(c, b, facts, d) for c in a[1]):
        return True
    return _atom_implies(a, b, facts, d)


def holds(b, facts) -> bool:
    """`b` is true in every context node the schema allows (e.g. count(x) <= 1, maxOccurs=1)."""
    if b[0] == "cmp" and b[2][0] == "fn" and b[2][1] == "count" and b[3][0] == "num":
        op, n = b[1], b[3][1]
        high = facts.max_occurs(b[2][2][0]) if len(b[2][2]) == 1 else None
        low = facts.min_occurs(b[2][2][0]) if len(b[2][2]) == 1 else None
        if high is not None and ((op == "<=" and high <= n) or (op == "<" and high < n)):
            return True
        if low is not None and ((op == ">=" and low >= n) or (op == ">" and low > n)):
            return True
        if op == "=" and low is not None and low == high == n:
            return True
    if b[0] == "exists":
        low = facts.min_occurs(b[1])
        return low is not None and low >= 1
    if b[0] == "and":
        return all(holds(c, facts) for c in b[1])
    if b[0] == "or":
        return any(holds(c, facts) for c in b[1])
    return False


def _atom_implies(a, b, facts, d) -> bool:
    ka, kb = a[0], b[0]
    if ka == "not" and kb == "not":
        return implies(b[1], a[1], facts, d)
    if ka == "cmp" and kb == "cmp" and a[2] == b[2]:
        return _comparison_implies(a[1], a[3], b[1], b[3], _integral(a[2]))
    if kb == "exists":
        if ka == "cmp" and _is_path(a[2]):
            return _same_or_narrower(a[2], b[1], facts, d)  # a true comparison needs a node
        if ka == "exists":
            return _same_or_narrower(a[1], b[1], facts, d)
        if ka == "not" and a[1][0] == "exists":
            # ∀ → ∃: not(x[not(p)]) ⇒ x[p] only when some x is there (the schema requires it)
            na, nb = a[1][1], b[1]
            base_a, pa = (na[1], na[2]) if na[0] == "pred" else (na, None)
            base_b, pb = (nb[1], nb[2]) if nb[0] == "pred" else (nb, TRUE)
            if base_a == base_b and pa is not None and pa[0] != "position":
                low = facts.min_occurs(base_a)
                return bool(low) and implies(negate(pa), pb, facts, d)
    return False


def _same_or_narrower(pa, pb, facts, d) -> bool:
    """`pa` selecting a node means `pb` selects one (same nodes, narrower predicates, or a
    longer path whose first steps are `pb`)."""
    if pa == pb:
        return True
    if pa[0] in ("/", "//") and _same_or_narrower(pa[1], pb, facts, d):
        return True
    if pa[0] == "pred" and pa[2][0] != "position":
        if pb[0] == "pred" and pb[2][0] != "position":
            return pa[1] == pb[1] and implies(pa[2], pb[2], facts, d)
        return _same_or_narrower(pa[1], pb, facts, d)
    if pb[0] == "union":
        return any(_same_or_narrower(pa, c, facts, d) for c in pb[1])
    return False


def _comparison_implies(op_a, va, op_b, vb, integral: bool) -> bool:
    """Per value v: (v op_a va) ⇒ (v op_b vb). Sound for node-sets too (same node witnesses)."""
    if va[0] == "str" or vb[0] == "str":
        if op_a == "=" and op_b == "=":
            return va == vb
        if op_a == "=" and op_b == "!=":
            return va != vb
        return op_a == op_b and va == vb
    if va[0] != "num" or vb[0] != "num":
        return op_a == op_b and va == vb
    x, y = va[1], vb[1]
    points = {x, y, min(x, y) - 1, max(x, y) + 1, (x + y) / 2}
    if integral:
        points = {float(p) for p in range(math.floor(min(x, y)) - 2, math.ceil(max(x, y)) + 3)}
    else:
        points |= {x - 0.5 * abs(x - y) - 1e-9, x + 1e-9, x - 1e-9, y + 1e-9, y - 1e-9}
    return all(_cmp(op_b, p, y) for p in points if _cmp(op_a, p, x))


def _cmp(op, p, v) -> bool:
    return {"<": p < v, "<=": p <= v, ">": p > v, ">=": p >= v, "=": p == v, "!=": p != v}[op]


def relation(old, new, facts=None) -> str:
    """equivalent / weaker (new accepts more) / stronger / unknown, as far as can be shown."""
    if old == new:
        return "equivalent"
    forward, backward = implies(old, new, facts), implies(new, old, facts)
    if forward and backward:
        return "equivalent"
    if forward:
        return "weaker"
    if backward:
        return "stronger"
    return "unknown"

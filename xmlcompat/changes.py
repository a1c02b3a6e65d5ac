"""The change list: every difference between two versions, named in the manner of buf/oasdiff,
with its location and whether it is backward/forward compatible on its own.

The list comes from a structural diff of corresponding declarations (roots by name, children
by name, renames found by name and shape). reconcile.py then makes it agree with the exact
verdicts: a change inside a pair of declarations whose languages are equal both ways is a
refactoring (compatible both ways); a compatible verdict clears a change's "incompatible"
flag for that direction; an incompatible verdict marks the change(s) its witness exercises
(adding one from the counterexample when the diff has none there).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from xmlcompat.decide import Decider
from xmlcompat.generate import root_declarations
from xmlcompat.model import ComplexType, Element, Particle, split, substitutes
from xmlcompat.values import facets, included, signature, variety


@dataclass
class Change:
    rule: str
    location: str
    backward: bool | None
    forward: bool | None
    detail: str = ""
    refactoring: bool = False
    witnessed: list = field(default_factory=list)   # directions whose witness exercises it
    path: str = ""
    pair: tuple | None = field(default=None, repr=False, compare=False)
    types: tuple | None = field(default=None, repr=False, compare=False)   # (type A, type B)
    note: str = ""                                   # what the classification leaves out

    def to_dict(self) -> dict:
        return {"rule": self.rule, "location": self.location, "backward": self.backward,
                "forward": self.forward, "detail": self.detail, "refactoring": self.refactoring,
                "witnessed": list(self.witnessed), "path": self.path, "note": self.note}


def _local(q: str) -> str:
    return split(q)[1]


def _norm(name: str) -> str:
    """gs_Album, aspnet_Membership, gs_Role_Album → album, membership, rolealbum."""
    local = _local(name)
    local = re.sub(r"^[a-z]+_(?=[A-Z])", "", local)
    local = local.replace("_", "").replace("-", "").lower()
    return local[:-1] if local.endswith("s") and len(local) > 3 else local


_OCCURRENCES: dict = {}


def occurrences(p: Particle | None) -> dict[str, tuple]:
    """For each child element name: (min, max) times it occurs in the words of `p`."""
    if p is None:
        return {}
    cached = _OCCURRENCES.get(id(p))
    if cached is not None and cached[0] is p:
        return cached[1]
    result = _occurrences(p)
    if len(_OCCURRENCES) > 100_000:
        _OCCURRENCES.clear()
    _OCCURRENCES[id(p)] = (p, result)
    return result


def _occurrences(p: Particle) -> dict[str, tuple]:
    if p.kind == "element":
        inner = {d.name: (1, 1) for d in [p.element]}
    elif p.kind == "any":
        inner = {}
    elif p.kind == "choice":
        parts = [occurrences(c) for c in p.children]
        names = {n for part in parts for n in part}
        inner = {}
        for n in names:
            lo = min(part.get(n, (0, 0))[0] for part in parts)
            his = [part.get(n, (0, 0))[1] for part in parts]
            inner[n] = (lo, None if None in his else max(his))
    else:
        inner = {}
        for c in p.children:
            for n, (lo, hi) in occurrences(c).items():
                plo, phi = inner.get(n, (0, 0))
                inner[n] = (plo + lo, None if hi is None or phi is None else phi + hi)
    return {n: (lo * p.min, None if hi is None or p.max is None else hi * p.max)
            for n, (lo, hi) in inner.items()}


def _children(t) -> dict[str, Element]:
    out: dict[str, Element] = {}

    def walk(p):
        if p is None:
            return
        if p.kind == "element":
            out.setdefault(p.element.name, p.element)
        for c in p.children:
            walk(c)
    walk(t.content if isinstance(t, ComplexType) else None)
    return out


def _groups(p, out=None) -> list:
    out = [] if out is None else out
    if p is not None and p.kind in ("sequence", "choice", "all"):
        out.append(p)
        for c in p.children:
            _groups(c, out)
    return out


def _wildcards(p, out=None) -> list:
    out = [] if out is None else out
    if p is not None:
        if p.kind == "any":
            out.append(p.wildcard)
        for c in p.children:
            _wildcards(c, out)
    return out


class _Differ:
    def __init__(self, lang_a, lang_b, ns_map):
        self.a, self.b = lang_a, lang_b
        self.to_b = Decider(lang_a, lang_b, ns_map).to_b
        self.changes: list[Change] = []
        self.seen: set = set()
        self.seen_types: set = set()
        self._current: tuple | None = None

    def add(self, rule, path, backward, forward, detail="", loc="", pair=None):
        location = path + (f" ({loc})" if loc else "")
        self.changes.append(Change(rule, location, backward, forward, detail, path=path, pair=pair,
                                   types=self._current))

    def run(self) -> list[Change]:
        ma, mb = self.a.model, self.b.model
        roots_a = {d.name: d for d in root_declarations(ma)}
        roots_b = {self.to_b(d.name): d for d in root_declarations(mb)}
        inv = {self.to_b(n): n for n in roots_a}
        removed = [d for n, d in roots_a.items() if self.to_b(n) not in roots_b]
        added = [d for n, d in roots_b.items() if n not in inv]
        for da, db in self._renames(removed, added):
            self.add("ROOT_ELEMENT_RENAMED", "/" + _local(da.name), False, False,
                     _renamed(da.name, db.name), da.location)
            self.element(da, db, "/" + _local(da.name))
        for d in removed:
            self.add("ROOT_ELEMENT_REMOVED", "/" + _local(d.name), False, True, "", d.location)
        for d in added:
            self.add("ROOT_ELEMENT_ADDED", "/" + _local(d.name), True, False, "", d.location)
        for name, da in roots_a.items():
            db = roots_b.get(self.to_b(name))
            if db is not None:
                self.element(da, db, "/" + _local(name))
        for name, da in ma.roots.items():
            db = mb.roots.get(self.to_b(name))
            if db is not None and da.abstract != db.abstract:
                self.add("ABSTRACT_ADDED" if db.abstract else "ABSTRACT_REMOVED", "/" + _local(name),
                         not db.abstract, not da.abstract, "", db.location)
            if db is not None:
                self.substitution(da, db, "/" + _local(name))
        self._moves()
        self.changes.sort(key=lambda c: (c.path, c.rule))
        return self.changes

    def _renames(self, removed: list, added: list) -> list:
        pairs = []
        for da in list(removed):
            best, score = None, 0.0
            for db in added:
                kids_a = {_local(n) for n in _children(da.type)}
                kids_b = {_local(n) for n in _children(db.type)}
                overlap = len(kids_a & kids_b) / max(1, len(kids_a | kids_b))
                na, nb = _norm(da.name), _norm(db.name)
                similar = na == nb or (min(len(na), len(nb)) >= 4 and (na.endswith(nb) or nb.endswith(na)))
                s = overlap + (1.0 if similar else 0.0)
                if s > score:
                    best, score = db, s
            if best is not None and (score >= 1.0 or (score >= 0.6 and len(_children(da.type)) >= 2)):
                pairs.append((da, best))
                removed.remove(da)
                added.remove(best)
        return pairs

    def substitution(self, da, db, path):
        members_a = {self.to_b(m.name) for m in substitutes(self.a.model, da) if m is not da}
        members_b = {m.name for m in substitutes(self.b.model, db) if m is not db}
        for m in sorted(members_a - members_b):
            self.add("SUBSTITUTION_MEMBER_REMOVED", path, False, True, _local(m), db.location)
        for m in sorted(members_b - members_a):
            self.add("SUBSTITUTION_MEMBER_ADDED", path, True, False, _local(m), db.location)

    # -- one pair of declarations ---------------------------------------------------------
    def element(self, da: Element, db: Element, path: str) -> None:
        key = (id(da), id(db))
        if key in self.seen:
            return
        self.seen.add(key)
        pair = (da, db)
        loc = db.location
        if da.nillable != db.nillable:
            self.add("NILLABLE_REMOVED" if da.nillable else "NILLABLE_ADDED", path,
                     not da.nillable, da.nillable, "", loc, pair)
        if da.fixed != db.fixed:
            self.add("FIXED_CHANGED", path, db.fixed is None, da.fixed is None,
                     f"{da.fixed!r} → {db.fixed!r}", loc, pair)
        if da.default != db.default:
            self.add("DEFAULT_CHANGED", path, True, True, f"{da.default!r} → {db.default!r}", loc, pair)
        for ident in sorted(set(db.identities) - set(da.identities)):
            self.add("IDENTITY_CONSTRAINT_ADDED", path, None, True, ident, loc, pair)
        for ident in sorted(set(da.identities) - set(db.identities)):
            self.add("IDENTITY_CONSTRAINT_REMOVED", path, True, None, ident, loc, pair)
        ta, tb = da.type, db.type
        name_a, name_b = da.type_name, db.type_name
        if name_a and name_b and self.to_b(name_a) != name_b and not _builtin(name_a, name_b):
            self.add("TYPE_RENAMED", path, None, None, f"{_local(name_a)} → {_local(name_b)}", loc, pair)
        elif (name_a is None) != (name_b is None) and not _builtin(name_a, name_b):
            self.add("ANONYMOUS_TYPE_NAMED" if name_b else "TYPE_MADE_ANONYMOUS", path, None, None,
                     _local(name_b or name_a), loc, pair)
        if isinstance(ta, ComplexType) and isinstance(tb, ComplexType):
            fa, fb = ta.location.split(":")[0], tb.location.split(":")[0]
            # moved between files of the sets (not: the whole set lives in another file)
            files_b = {p.name for p in self.b.files}
            if name_a and name_b and fa and fb and fa != fb and fa in files_b:
                self.add("TYPE_MOVED", path, None, None, f"{fa} → {fb}", loc, pair)
        self.types(ta, tb, path, pair)

    def types(self, ta, tb, path, pair) -> None:
        # a pair of named types is reported once, at the first path that uses it
        if getattr(ta, "name", None) and getattr(tb, "name", None):
            if (id(ta), id(tb)) in self.seen_types:
                return
            self.seen_types.add((id(ta), id(tb)))
        outer, self._current = self._current, (ta, tb)
        try:
            self._types(ta, tb, path, pair)
        finally:
            self._current = outer

    def _types(self, ta, tb, path, pair) -> None:
        ca, cb = isinstance(ta, ComplexType), isinstance(tb, ComplexType)
        if not ca and not cb:
            self.simple(ta, tb, path, pair)
            return
        if ca and cb and (ta.is_any or tb.is_any):
            if ta.is_any != tb.is_any:
                self.add("TYPE_CHANGED", path, ta.is_any is False and None, None,
                         "anyType on one side", "", pair)
            return
        if not (ca and cb):
            simple_a = ta if not ca else ta.simple
            simple_b = tb if not cb else tb.simple
            if simple_a is not None and simple_b is not None:
                self.simple(simple_a, simple_b, path, pair)
            else:
                self.add("TYPE_CHANGED", path, None, None, "simple type ↔ element content", "", pair)
            self.attributes(ta if ca else None, tb if cb else None, path, pair)
            return
        self.attributes(ta, tb, path, pair)
        if ta.mixed != tb.mixed:
            self.add("MIXED_REMOVED" if ta.mixed else "MIXED_ADDED", path, not ta.mixed, ta.mixed,
                     "", tb.location, pair)
        if (ta.simple is None) != (tb.simple is None):
            self.add("TYPE_CHANGED", path, None, None, "simple content ↔ element content", tb.location, pair)
            return
        if ta.simple is not None:
            self.simple(ta.simple, tb.simple, path, pair)
            return
        self.content(ta, tb, path, pair)

    def content(self, ta, tb, path, pair) -> None:
        occ_a = {self.to_b(n): v for n, v in occurrences(ta.content).items()}
        occ_b = occurrences(tb.content)
        kids_a = {self.to_b(n): d for n, d in _children(ta).items()}
        kids_b = _children(tb)
        removed = [kids_a[n] for n in occ_a if n not in occ_b and occ_a[n][1] != 0]
        added = [kids_b[n] for n in occ_b if n not in occ_a and occ_b[n][1] != 0]
        for da, db in self._renames(removed, added):
            self.add("ELEMENT_RENAMED", f"{path}/{_local(da.name)}", False, False,
                     _renamed(da.name, db.name), db.location, pair)
            self.element(da, db, f"{path}/{_local(da.name)}")
        for d in removed:
            lo = occ_a[self.to_b(d.name)][0]
            self.add("ELEMENT_REMOVED", f"{path}/{_local(d.name)}", False, lo == 0, "", d.location, pair)
        for d in added:
            lo = occ_b[d.name][0]
            self.add("REQUIRED_ELEMENT_ADDED" if lo else "OPTIONAL_ELEMENT_ADDED",
                     f"{path}/{_local(d.name)}", not lo, False,
                     "", d.location, pair)
        for n, (alo, ahi) in occ_a.items():
            if n not in occ_b:
                continue
            blo, bhi = occ_b[n]
            p = f"{path}/{_local(n)}"
            if blo > alo:
                self.add("MIN_OCCURS_RAISED", p, False, True, f"{alo} → {blo}", kids_b[n].location, pair)
            elif blo < alo:
                self.add("MIN_OCCURS_LOWERED", p, True, False, f"{alo} → {blo}", kids_b[n].location, pair)
            if _lt(bhi, ahi):
                self.add("MAX_OCCURS_LOWERED", p, False, True, f"{_n(ahi)} → {_n(bhi)}", kids_b[n].location, pair)
            elif _lt(ahi, bhi):
                self.add("MAX_OCCURS_RAISED", p, True, False, f"{_n(ahi)} → {_n(bhi)}", kids_b[n].location, pair)
        self.order(ta, tb, path, pair)
        self.wildcards(ta, tb, path, pair)
        for n, db in kids_b.items():
            da = kids_a.get(n)
            if da is not None:
                self.element(da, db, f"{path}/{_local(n)}")

    def order(self, ta, tb, path, pair) -> None:
        groups_b = _groups(tb.content)
        for ga in _groups(ta.content):
            names_a = [self.to_b(c.element.name) for c in ga.children if c.kind == "element"]
            if len(names_a) < 2:
                continue
            for gb in groups_b:
                names_b = [c.element.name for c in gb.children if c.kind == "element"]
                if set(names_a) == set(names_b) and gb.kind == ga.kind and names_a != names_b:
                    rule = "CHOICE_REORDERED" if ga.kind == "choice" else "SEQUENCE_REORDERED"
                    compatible = ga.kind in ("choice", "all")
                    self.add(rule, path, compatible, compatible, f"{', '.join(map(_local, names_a))} → "
                             f"{', '.join(map(_local, names_b))}", tb.location, pair)
        structure_a = [(g.kind, g.group_name and self.to_b(g.group_name)) for g in _groups(ta.content)]
        structure_b = [(g.kind, g.group_name) for g in groups_b]
        names_a = {n for _, n in structure_a if n}
        names_b = {n for _, n in structure_b if n}
        for n in sorted(names_b - names_a):
            self.add("GROUP_EXTRACTED", path, None, None, _local(n), tb.location, pair)
        for n in sorted(names_a - names_b):
            self.add("GROUP_INLINED", path, None, None, _local(n), tb.location, pair)

    def wildcards(self, ta, tb, path, pair) -> None:
        wa, wb = _wildcards(ta.content), _wildcards(tb.content)
        if len(wa) > len(wb):
            self.add("WILDCARD_REMOVED", path, False, True, "", tb.location, pair)
        elif len(wb) > len(wa):
            self.add("WILDCARD_ADDED", path, True, False, "", tb.location, pair)
        for x, y in zip(wa, wb):
            self._wildcard_pair(x, y, path, pair, "element wildcard")

    def _wildcard_pair(self, x, y, path, pair, what) -> None:
        if x == y:
            return
        spaces = sorted({self.to_b(n) for n in (x.namespaces or [])} | set(y.namespaces or [])
                        | set(x.not_namespaces) | set(y.not_namespaces) | {"", "urn:xmlcompat:other"})
        narrower = any(x.accepts(n) and not y.accepts(n) for n in spaces)
        wider = any(y.accepts(n) and not x.accepts(n) for n in spaces)
        strength = {"skip": 0, "lax": 1, "strict": 2}
        if strength[y.process] > strength[x.process]:
            narrower = True
        elif strength[y.process] < strength[x.process]:
            wider = True
        if narrower:
            self.add("WILDCARD_NARROWED", path, False, not wider, f"{what}: {x.describe()} → {y.describe()}", "", pair)
        elif wider:
            self.add("WILDCARD_WIDENED", path, True, False, f"{what}: {x.describe()} → {y.describe()}", "", pair)

    def attributes(self, ta, tb, path, pair) -> None:
        aa = {self.to_b(n): v for n, v in (ta.attributes.items() if ta is not None else ())}
        ab = dict(tb.attributes) if tb is not None else {}
        for n, a in aa.items():
            p = f"{path}/@{_local(n)}"
            b = ab.get(n)
            if b is None:
                self.add("ATTRIBUTE_REMOVED", p, False, not a.required, "", a.location, pair)
                continue
            if a.required and not b.required:
                self.add("ATTRIBUTE_MADE_OPTIONAL", p, True, False, "", b.location, pair)
            elif b.required and not a.required:
                self.add("ATTRIBUTE_MADE_REQUIRED", p, False, True, "", b.location, pair)
            if a.default != b.default:
                self.add("DEFAULT_CHANGED", p, True, True, f"{a.default!r} → {b.default!r}", b.location, pair)
            if a.fixed != b.fixed:
                self.add("FIXED_CHANGED", p, b.fixed is None, a.fixed is None, f"{a.fixed!r} → {b.fixed!r}",
                         b.location, pair)
            self.simple(a.type, b.type, p, pair)
        for n, b in ab.items():
            if n not in aa:
                self.add("ATTRIBUTE_ADDED_REQUIRED" if b.required else "ATTRIBUTE_ADDED_OPTIONAL",
                         f"{path}/@{_local(n)}", not b.required, False, "", b.location, pair)
        wa = ta.attr_wildcard if ta is not None else None
        wb = tb.attr_wildcard if tb is not None else None
        if wa is not None and wb is None:
            self.add("WILDCARD_REMOVED", path, False, True, "anyAttribute", "", pair)
        elif wb is not None and wa is None:
            self.add("WILDCARD_ADDED", path, True, False, "anyAttribute", "", pair)
        elif wa is not None:
            self._wildcard_pair(wa, wb, path, pair, "anyAttribute")

    def simple(self, sa, sb, path, pair) -> None:
        if sa is sb or signature(sa) == signature(sb):
            return
        if sa.name and sb.name and not _builtin(sa.name, sb.name):
            if ("simple", id(sa), id(sb)) in self.seen_types:
                return
            self.seen_types.add(("simple", id(sa), id(sb)))
            path = f"{path} (type {_local(sa.name)})"
        outer, self._current = self._current, (sa, sb)
        try:
            self._simple(sa, sb, path, pair)
        finally:
            self._current = outer

    def _simple(self, sa, sb, path, pair) -> None:
        back, fwd = included(sa, sb).ok, included(sb, sa).ok
        if variety(sa) != "atomic" or variety(sb) != "atomic":
            self.add("TYPE_CHANGED", path, back, fwd, f"{variety(sa)} → {variety(sb)}", "", pair)
            return
        fa, fb = facets(sa), facets(sb)
        if fa.builtin != fb.builtin:
            # facets the built-in types imply (int's bounds…) are part of this one change
            self.add("TYPE_CHANGED", path, back, fwd, f"{fa.builtin} → {fb.builtin}", "", pair)
            return
        if fa.enumeration is not None or fb.enumeration is not None:
            ea, eb = set(fa.enumeration or []), set(fb.enumeration or [])
            if fa.enumeration is None or fb.enumeration is None:
                rule = "FACET_TIGHTENED" if fb.enumeration is not None else "FACET_LOOSENED"
                self.add(rule, path, back, fwd, "enumeration", "", pair)
            else:
                for v in sorted(ea - eb):
                    self.add("ENUM_VALUE_REMOVED", path, False, True, v, "", pair)
                for v in sorted(eb - ea):
                    self.add("ENUM_VALUE_ADDED", path, True, False, v, "", pair)
        for label, x, y in (("length", fa.lengths, fb.lengths), ("bounds", (fa.lower, fa.upper), (fb.lower, fb.upper)),
                            ("totalDigits", fa.total_digits, fb.total_digits),
                            ("fractionDigits", fa.fraction_digits, fb.fraction_digits),
                            ("pattern", fa.patterns, fb.patterns), ("whiteSpace", fa.white_space, fb.white_space)):
            if x != y:
                rule = "FACET_TIGHTENED" if back is False or (back is None and fwd) else "FACET_LOOSENED"
                if label == "pattern" or label == "whiteSpace":
                    rule = "FACET_CHANGED" if back is None and fwd is None else rule
                self.add(rule, path, back, fwd, f"{label}: {_fmt(x)} → {_fmt(y)}", "", pair)

    def _moves(self) -> None:
        removed = {c.path.rsplit("/", 1)[-1]: c for c in self.changes if c.rule == "ELEMENT_REMOVED"}
        for c in list(self.changes):
            if c.rule in ("REQUIRED_ELEMENT_ADDED", "OPTIONAL_ELEMENT_ADDED"):
                name = c.path.rsplit("/", 1)[-1]
                r = removed.get(name)
                if r is not None and r in self.changes and r.path.rsplit("/", 1)[0] != c.path.rsplit("/", 1)[0]:
                    self.changes.remove(r)
                    self.changes.remove(c)
                    self.changes.append(Change("ELEMENT_MOVED", r.location, False, False,
                                               f"{r.path} → {c.path}", path=r.path, pair=r.pair))


def _renamed(a: str, b: str) -> str:
    """'old → new' with local names, or with namespaces when only the namespace changed."""
    if _local(a) == _local(b):
        return f"{a} → {b}"
    return f"{_local(a)} → {_local(b)}"


def _fmt(x) -> str:
    if x is None:
        return "none"
    if isinstance(x, tuple) and len(x) == 2 and all(isinstance(v, int) or v is None for v in x):
        return f"[{x[0]}, {_n(x[1])}]"                       # a length range
    if isinstance(x, tuple) and len(x) == 2:                  # (lower, upper) bounds
        lo, hi = x
        left = f"{'[' if lo[1] else '('}{lo[0]}" if lo else "(-∞"
        right = f"{hi[0]}{']' if hi[1] else ')'}" if hi else "∞)"
        return f"{left}, {right}"
    return str(x)


def _builtin(*names) -> bool:
    return any(n and n.startswith("{http://www.w3.org/2001/XMLSchema}") for n in names)


def _lt(a, b) -> bool:
    """a < b for maxOccurs values where None is unbounded."""
    if a is None:
        return False
    return b is None or a < b


def _n(v) -> str:
    return "unbounded" if v is None else str(v)


def diff(lang_a, lang_b, ns_map) -> list[Change]:
    return _Differ(lang_a, lang_b, ns_map).run()


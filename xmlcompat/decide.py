"""The exact grammar decision L(A) ⊆ L(B), with a counterexample when it fails.

Pairs of corresponding element declarations are compared: nillable, identity constraints,
the types a document may give the element (declared, or derived through xsi:type), then per
pair of types their attributes and their content. Element content is decided by a
breadth-first search over the product of the two deterministic content automata: a state
where A may stop and B may not, or a name A allows and B does not, is a counterexample (the
shortest, by BFS); every pair of child declarations met on the way is compared the same way
(memoised per pair; a pair met again while being compared is assumed included, which is
sound because documents are finite). Simple values go to values.included. What cannot be
decided is collected as "unknown" reasons; it never turns into "compatible".
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field, replace

from xmlcompat.automata import TooLarge
from xmlcompat.generate import automaton, root_declarations
from xmlcompat.model import ANY_ELEMENT, OTHER_NS, ComplexType, Element, split
from xmlcompat.values import included, valid_values

XSI = "http://www.w3.org/2001/XMLSchema-instance"


@dataclass
class Fail:
    """Why one element of A is not valid under B; the witness builder reads it."""
    kind: str          # root | abstract | nil | xsi-type | any-content | missing | unexpected
                       # | child | text | value | attr-missing | attr-unexpected | attr-value
    message: str
    rule: str          # the change rule this failure exercises
    decl: Element | None = None
    qname: str = ""
    type_a: object = None
    xsi: str | None = None
    word: list = field(default_factory=list)   # [(leaf, qname)] of A's content up to the failure
    child: Fail | None = None
    value: str | None = None
    attr: tuple | None = None                  # (name, value) to put on the element
    omit_attr: str | None = None
    nil: bool = False
    loc_a: str = ""
    loc_b: str = ""

    def chain(self) -> list:
        out, f = [self], self
        while f.child is not None:
            f = f.child
            out.append(f)
        return out

    def path(self) -> str:
        return "/" + "/".join(_local(f.qname) for f in self.chain())

    def leaf(self) -> Fail:
        return self.chain()[-1]


def _local(qname: str) -> str:
    return split(qname)[1]


class Decider:
    def __init__(self, lang_a, lang_b, ns_map: dict[str, str], shallow: bool = False,
                 strict_type_names: bool = False):
        self.a, self.b = lang_a, lang_b
        # strict_type_names: L(A) includes documents whose xsi:type names an element's own
        # declared type (redundant, but it ties the document to the type's name); by default
        # they are left out (docs/compatibility.md, "Type names")
        self.strict_type_names = strict_type_names
        self.ma, self.mb = lang_a.model, lang_b.model
        self.ns_map = dict(ns_map)
        self.ns_inv = {v: k for k, v in ns_map.items()}
        self.unknown: list[str] = []
        self._elements: dict = {}
        self._types: dict = {}
        self._busy: set = set()
        self._path: list[str] = []
        self._names: dict[str, str] = {}
        # shallow: compare one pair of declarations with their children taken as equal
        # (used to tell refactorings of that declaration from changes of its language)
        self.shallow = shallow

    # -- names ------------------------------------------------------------------------------
    def to_b(self, qname: str) -> str:
        out = self._names.get(qname)
        if out is None:
            ns, local = split(qname)
            ns = self.ns_map.get(ns, ns)
            out = self._names[qname] = f"{{{ns}}}{local}" if ns else local
        return out

    def to_a(self, qname: str) -> str:
        ns, local = split(qname)
        ns = self.ns_inv.get(ns, ns)
        return f"{{{ns}}}{local}" if ns else local

    def _unknown(self, reason: str) -> None:
        text = f"{'/' + '/'.join(self._path) if self._path else '/'}: {reason}"
        if text not in self.unknown:
            self.unknown.append(text)

    # -- documents --------------------------------------------------------------------------
    def decide(self) -> Fail | None:
        for decl in sorted(root_declarations(self.ma), key=lambda d: d.name):
            name_b = self.to_b(decl.name)
            decl_b = self.mb.roots.get(name_b)
            if decl_b is None:
                return Fail("root", f"root element {_local(decl.name)} is not declared in the new version",
                            "ROOT_ELEMENT_REMOVED", decl=decl, qname=decl.name, loc_a=decl.location)
            if decl_b.abstract:
                return Fail("abstract", f"element {_local(decl.name)} is abstract in the new version",
                            "ABSTRACT_ADDED", decl=decl, qname=decl.name, loc_a=decl.location,
                            loc_b=decl_b.location)
            self._path = [_local(decl.name)]
            fail = self.elements(decl, decl_b, decl.name)
            if fail is not None:
                return fail
        return None

    # -- elements ---------------------------------------------------------------------------
    def elements(self, da: Element, db: Element, qname: str) -> Fail | None:
        key = (id(da), id(db))
        if key in self._elements:
            f = self._elements[key]
            return None if f is None else replace(f, qname=qname)
        if key in self._busy:
            return None
        self._busy.add(key)
        try:
            fail = self._elements_uncached(da, db, qname)
        finally:
            self._busy.discard(key)
        self._elements[key] = fail
        return fail

    def _elements_uncached(self, da, db, qname) -> Fail | None:
        base = {"decl": da, "qname": qname, "loc_a": getattr(da, "location", ""), "loc_b": getattr(db, "location", "")}
        if db is ANY_ELEMENT:
            return None
        if da is ANY_ELEMENT:
            if isinstance(db.type, ComplexType) and db.type.is_any:
                return None
            return Fail("any-content", f"{_local(qname)}: any content was allowed, now declared",
                        "WILDCARD_NARROWED", **base)
        if da.nillable and not db.nillable:
            return Fail("nil", f"{_local(qname)} can no longer be nil", "NILLABLE_REMOVED", nil=True,
                        type_a=da.type, **base)
        added = set(db.identities) - set(da.identities)
        if added:
            self._unknown(f"identity constraint(s) added or changed on {_local(qname)}: "
                          f"{'; '.join(sorted(added))} (identity constraints are not decided)")
        xsi_a = list(da.xsi_types)
        xsi_b = {name: t for name, t in db.xsi_types}
        if self.strict_type_names:
            own = _own_type(da)
            if own is not None:
                xsi_a.insert(0, own)
        if not getattr(da.type, "abstract", False):
            if getattr(db.type, "abstract", False):
                return Fail("abstract", f"type of {_local(qname)} is abstract in the new version",
                            "ABSTRACT_ADDED", type_a=da.type, **base)
            fail = self.types(da.type, db.type, da.fixed, db.fixed)
            if fail is not None:
                return replace(fail, type_a=da.type, **base)
        for name, ta in xsi_a:
            tb = xsi_b.get(self.to_b(name))
            if tb is None and self.strict_type_names:
                tb = self._named_type_b(self.to_b(name), db)
            if tb is None:
                if ta is da.type:
                    rule = ("TYPE_MADE_ANONYMOUS" if db.type_name is None else "TYPE_RENAMED"
                            if db.type_name != self.to_b(name) else "TYPE_CHANGED")
                    return Fail("xsi-type", f"{_local(qname)} with xsi:type {_local(name)} (its own "
                                "declared type): no type of that name is its type or derived from "
                                "it in the new version", rule, type_a=ta, xsi=name, **base)
                return Fail("xsi-type", f"{_local(qname)} with xsi:type {_local(name)}: type not "
                            "derived from the declared type (or absent) in the new version",
                            "TYPE_CHANGED", type_a=ta, xsi=name, **base)
            fail = self.types(ta, tb, da.fixed, db.fixed)
            if fail is not None:
                return replace(fail, type_a=ta, xsi=name, **base)
        return None

    def _named_type_b(self, qname_b: str, db: Element):
        """The type B gives an element `db` written with xsi:type `qname_b` (strict mode: the
        name A's declaration had), or None when B rejects that xsi:type: no such type, abstract,
        or neither `db`'s declared type nor derived from it without a blocked step. Built-in
        types count too (`xsi:type="xs:int"` on an element of type xs:long is valid)."""
        xs_t = self.b.xs.maps.types.get(qname_b)
        declared = getattr(db.xs, "type", None)
        if xs_t is None or declared is None or getattr(xs_t, "abstract", False):
            return None
        steps, t = set(), xs_t
        while t is not declared:
            base = getattr(t, "base_type", None)
            if base is None or base is t:
                return None
            steps.add(getattr(t, "derivation", None) or "restriction")
            t = base
        if steps & (set(db.block) | set(getattr(db.type, "block", ()) or ())):
            return None
        return self.mb.builder.type_of(xs_t)

    # -- types ------------------------------------------------------------------------------
    def types(self, ta, tb, fixed_a, fixed_b) -> Fail | None:
        key = (id(ta), id(tb), fixed_a, fixed_b)
        if key in self._types:
            return self._types[key]
        self._types[key] = None             # recursion through this pair: assumed included
        try:
            fail = self._types_uncached(ta, tb, fixed_a, fixed_b)
        except TooLarge as exc:
            fail = None
            pairs = self._same_structure(ta.content, tb.content) if isinstance(ta, ComplexType) \
                and isinstance(tb, ComplexType) else None
            if pairs is None:
                self._unknown(str(exc))
            else:
                # the same content model on both sides: included iff its children are
                for decl_a, decl_b in pairs:
                    if self.elements(decl_a, decl_b, decl_a.name) is not None:
                        self._unknown(f"{_local(decl_a.name)} differs inside a content model too "
                                      "large to unroll (no witness built)")
                        break
        self._types[key] = fail
        return fail

    def _types_uncached(self, ta, tb, fixed_a, fixed_b) -> Fail | None:
        ca, cb = isinstance(ta, ComplexType), isinstance(tb, ComplexType)
        if cb and tb.is_any:
            return None
        if ca and ta.is_any:
            return Fail("any-content", "any content was allowed, now declared", "TYPE_CHANGED")
        fail = self.attributes(ta if ca else None, tb if cb else None)
        if fail is not None:
            return fail
        sa = ta if not ca else ta.simple           # simple value (simple type or content)
        sb = tb if not cb else tb.simple
        if sa is not None and sb is not None:
            return self.value(sa, sb, fixed_a, fixed_b)
        if sa is not None:                          # text against element content
            return self.text_into_elements(sa, tb, fixed_a)
        if sb is not None:                          # element content against a simple value
            return self.elements_into_text(ta, sb, fixed_b)
        fail = self.content(ta, tb)
        if fail is not None:
            return fail
        if ta.mixed and not tb.mixed:
            return Fail("text", "text content (mixed) is no longer allowed", "MIXED_REMOVED", value="x")
        if fixed_b is not None and fixed_a != fixed_b and ta.mixed:
            return Fail("text", f"the text must be the fixed {fixed_b!r}", "FIXED_CHANGED",
                        value=fixed_a or "x")
        return None

    def value(self, sa, sb, fixed_a, fixed_b) -> Fail | None:
        inc = included(sa, sb, fixed_a, fixed_b)
        if inc.ok is False:
            rule = "FIXED_CHANGED" if fixed_b is not None else _value_rule(sa, sb)
            return Fail("value", f"value {inc.value!r} is rejected ({inc.reason})", rule, value=inc.value)
        if inc.ok is None:
            self._unknown(f"simple type inclusion not decided: {inc.reason}")
        return None

    def text_into_elements(self, sa, tb: ComplexType, fixed_a) -> Fail | None:
        auto = automaton(self.mb, tb) if tb.content is not None else None
        if auto is not None and not auto.final(auto.start):
            return Fail("missing", "child elements are now required where only text was", "TYPE_CHANGED")
        if tb.mixed:
            return None
        values = [fixed_a] if fixed_a is not None else valid_values(sa, 20)
        for v in values:
            if v.strip():
                return Fail("value", f"text {v!r} is not allowed in element-only content", "TYPE_CHANGED",
                            value=v)
        return None

    def elements_into_text(self, ta: ComplexType, sb, fixed_b) -> Fail | None:
        if ta.content is not None:
            auto = automaton(self.ma, ta)
            leaves, wildcards = auto.symbols(auto.start)
            if leaves:
                return Fail("unexpected", "child elements are no longer allowed", "TYPE_CHANGED",
                            word=[(leaves[0], leaves[0].element.name)])
            if wildcards:
                self._unknown("wildcard content against a simple type (not decided)")
                return None
        if ta.mixed:
            inc = included(_string_type(self.a), sb, None, fixed_b)
            if inc.ok is False:
                return Fail("text", f"text {inc.value!r} is rejected", "TYPE_CHANGED", value=inc.value)
        from xmlcompat.values import is_valid
        if not is_valid(sb, "") and fixed_b is None:
            return Fail("value", "an empty element is rejected", "TYPE_CHANGED", value="")
        return None

    # -- attributes -------------------------------------------------------------------------
    def attributes(self, ta: ComplexType | None, tb: ComplexType | None) -> Fail | None:
        attrs_a = ta.attributes if ta is not None else {}
        attrs_b = tb.attributes if tb is not None else {}
        wc_a = ta.attr_wildcard if ta is not None else None
        wc_b = tb.attr_wildcard if tb is not None else None
        for name_b, att_b in attrs_b.items():
            name_a = self.to_a(name_b)
            att_a = attrs_a.get(name_a)
            if att_b.required and not (att_a is not None and att_a.required):
                rule = "ATTRIBUTE_MADE_REQUIRED" if att_a is not None else "ATTRIBUTE_ADDED_REQUIRED"
                return Fail("attr-missing", f"attribute {_local(name_b)} is required", rule,
                            omit_attr=name_a, loc_b=att_b.location)
        for name_a, att_a in attrs_a.items():
            name_b = self.to_b(name_a)
            att_b = attrs_b.get(name_b)
            if att_b is None and wc_b is not None and wc_b.accepts(split(name_b)[0]):
                if wc_b.process == "skip":
                    continue
                att_b = self.mb.attributes.get(name_b)
                if att_b is None and wc_b.process == "lax":
                    continue
            if att_b is None:
                values = [att_a.fixed] if att_a.fixed is not None else valid_values(att_a.type, 1)
                return Fail("attr-unexpected", f"attribute {_local(name_a)} is no longer allowed",
                            "ATTRIBUTE_REMOVED", attr=(name_a, values[0] if values else ""),
                            loc_a=att_a.location)
            inc = included(att_a.type, att_b.type, att_a.fixed, att_b.fixed)
            if inc.ok is False:
                rule = "FIXED_CHANGED" if att_b.fixed is not None else _value_rule(att_a.type, att_b.type)
                return Fail("attr-value", f"attribute {_local(name_a)}={inc.value!r} is rejected "
                            f"({inc.reason})", rule, attr=(name_a, inc.value), loc_a=att_a.location,
                            loc_b=att_b.location)
            if inc.ok is None:
                self._unknown(f"attribute {_local(name_a)}: {inc.reason}")
        if wc_a is not None:
            for name_a in self._fresh_attributes(wc_a):
                name_b = self.to_b(name_a)
                if name_b in attrs_b or name_a in attrs_a:
                    continue
                ns_b = split(name_b)[0]
                ok = wc_b is not None and wc_b.accepts(ns_b) and (
                    wc_b.process != "strict" or name_b in self.mb.attributes)
                if not ok:
                    return Fail("attr-unexpected", f"attribute {name_a} (allowed by a wildcard) is "
                                "no longer allowed", "WILDCARD_NARROWED", attr=(name_a, "x"))
        return None

    def _fresh_attributes(self, wc) -> list[str]:
        out = []
        if wc.process == "strict":
            return [q for q in self.ma.attributes if wc.accepts(split(q)[0])]
        for ns in self._namespaces():
            if wc.accepts(ns):
                out.append(f"{{{ns}}}xmlcompat-any" if ns else "xmlcompat-any")
        return out

    def _namespaces(self) -> list[str]:
        spaces = set(self.ma.namespaces) | {self.ns_inv.get(n, n) for n in self.mb.namespaces}
        return sorted(spaces | {"", OTHER_NS})

    # -- element content --------------------------------------------------------------------
    def _resolve(self, model, leaf, qname):
        if leaf.element is not None:
            return leaf.element
        if leaf.wildcard.process == "skip":
            return ANY_ELEMENT
        decl = model.roots.get(qname)
        if decl is not None and decl.abstract:
            decl = None
        if decl is None and leaf.wildcard.process == "lax":
            return ANY_ELEMENT
        return decl

    def _same_structure(self, pa, pb) -> list | None:
        """The pairs of element declarations of two particles of identical shape (kinds,
        bounds, names, wildcards), or None when the shapes differ."""
        if pa is None or pb is None:
            return [] if pa is pb else None
        if (pa.kind, pa.min, pa.max, len(pa.children)) != (pb.kind, pb.min, pb.max, len(pb.children)):
            return None
        if pa.kind == "any":
            return [] if pa.wildcard == pb.wildcard else None
        if pa.kind == "element":
            if self.to_b(pa.element.name) != pb.element.name:
                return None
            return [(pa.element, pb.element)]
        out = []
        for ca, cb in zip(pa.children, pb.children):
            sub = self._same_structure(ca, cb)
            if sub is None:
                return None
            out += sub
        return out

    def _symbols(self, auto_a, sa, auto_b, sb) -> list[str]:
        leaves, wildcards = auto_a.symbols(sa)
        names = [leaf.element.name for leaf in leaves]
        if wildcards:
            b_leaves, _ = auto_b.symbols(sb)
            extra = [self.to_a(leaf.element.name) for leaf in b_leaves]
            extra += list(self.ma.roots)
            extra += [f"{{{ns}}}xmlcompat-any" if ns else "xmlcompat-any" for ns in self._namespaces()]
            names += [q for q in extra if any(w.accepts(split(q)[0]) for w in wildcards)]
        return list(dict.fromkeys(names))

    def content(self, ta: ComplexType, tb: ComplexType) -> Fail | None:
        auto_a = automaton(self.ma, ta)
        auto_b = automaton(self.mb, tb)
        queue = deque([(auto_a.start, auto_b.start, ())])
        seen = {(auto_a.start, auto_b.start)}
        pairs: list = []
        seen_pairs: set = set()
        while queue:
            sa, sb, word = queue.popleft()
            if auto_a.final(sa) and not auto_b.final(sb):
                expected = [_local(leaf.element.name) for leaf in auto_b.symbols(sb)[0]]
                return Fail("missing", "content ends where the new version expects "
                            f"{' or '.join(expected) or 'more'}", _missing_rule(word, expected),
                            word=list(word))
            for qname in self._symbols(auto_a, sa, auto_b, sb):
                step_a = auto_a.step(sa, qname)
                if step_a is None:
                    continue
                na, leaf_a = step_a
                decl_a = self._resolve(self.ma, leaf_a, qname)
                if decl_a is None:
                    continue
                new_word = word + ((leaf_a, qname),)
                step_b = auto_b.step(sb, self.to_b(qname))
                decl_b = None if step_b is None else self._resolve(self.mb, step_b[1], self.to_b(qname))
                if step_b is None or decl_b is None:
                    present = any(_local(leaf.element.name) == _local(qname)
                                  for leaf in _all_leaves(auto_b))
                    rule = "ELEMENT_REMOVED" if not present else "CONTENT_MODEL_NARROWED"
                    return Fail("unexpected", f"element {_local(qname)} is not allowed here in the new "
                                "version", rule, word=list(new_word))
                pair = (id(decl_a), id(decl_b))
                if pair not in seen_pairs:
                    seen_pairs.add(pair)
                    pairs.append((new_word, decl_a, decl_b, qname))
                nxt = (na, step_b[0])
                if nxt not in seen:
                    seen.add(nxt)
                    queue.append((na, step_b[0], new_word))
        if self.shallow:
            return None
        for word, decl_a, decl_b, qname in pairs:
            self._path.append(_local(qname))
            try:
                fail = self.elements(decl_a, decl_b, qname)
            finally:
                self._path.pop()
            if fail is not None:
                return Fail("child", fail.message, fail.rule, word=list(word), child=fail)
        return None


def _own_type(decl: Element) -> tuple | None:
    """(name, type) of `decl`'s declared type when a document may name it in xsi:type
    (named and not abstract), else None."""
    if decl is ANY_ELEMENT or decl.type_name is None or getattr(decl.type, "abstract", False):
        return None
    return decl.type_name, decl.type


def _all_leaves(auto) -> list:
    if auto.all_group:
        return [leaf for leaf in auto._next(frozenset())]
    return [leaf for leaf in auto.g.leaves if leaf.element is not None]


def _missing_rule(word, expected) -> str:
    return "REQUIRED_ELEMENT_ADDED" if expected else "MIN_OCCURS_RAISED"


def _value_rule(sa, sb) -> str:
    from xmlcompat.values import builtin_chain, facets, variety
    if variety(sa) == variety(sb) == "atomic":
        fa, fb = facets(sa), facets(sb)
        if fb.enumeration is not None and fa.enumeration is not None:
            return "ENUM_VALUE_REMOVED"
        if fb.builtin in builtin_chain(sa) or fa.builtin == fb.builtin:
            return "FACET_TIGHTENED"
    return "TYPE_CHANGED"


def _string_type(lang):
    return lang.xs.maps.types["{http://www.w3.org/2001/XMLSchema}string"]

"""Instances of a language: the smallest one of a declaration (for witnesses) and seeded,
bounded random documents (for tests, the benchmark's oracle and rule checks).

Works over the component model: honours abstract elements and types (an abstract declared
type is replaced through `xsi:type` by a derived one), substitution groups (members are
positions of the automata), `xsi:type` (random mode picks derived types), ID/IDREF (IDs are
unique, IDREFs name an ID of the document), fixed values, facets and patterns (values come
from values.candidates and are checked against their type).
"""

from __future__ import annotations

import random

from lxml import etree

from xmlcompat.automata import Automaton, TooLarge
from xmlcompat.model import ANY_ELEMENT, OTHER_NS, ComplexType, Element, split, substitutes
from xmlcompat.values import builtin_chain, valid_values, variety

XSI = "http://www.w3.org/2001/XMLSchema-instance"


class GenerationError(Exception):
    """No valid instance could be made (unproductive recursion, an empty value space…)."""


def automaton(model, ct: ComplexType) -> Automaton:
    cache = model.__dict__.setdefault("_automata", {})
    key = id(ct)
    if key not in cache:
        cache[key] = Automaton(model, ct.content)
    return cache[key]


class Generator:
    def __init__(self, lang, seed: int = 0, minimal: bool = True, max_depth: int = 8,
                 max_children: int = 6):
        self.lang = lang
        self.model = lang.model
        self.rng = random.Random(seed)
        self.minimal = minimal
        self.max_depth = max_depth
        self.max_children = max_children
        self._costs: dict[int, int | None] = {}
        self._busy: set[int] = set()
        self._values: dict[int, list[str]] = {}
        self._ids = 0
        self._id_values: list[str] = []
        self._idrefs: list = []

    # -- sizes ------------------------------------------------------------------------------
    def cost(self, decl: Element) -> int | None:
        """Size of the smallest instance of `decl` (None: none can be made)."""
        key = id(decl)
        if key in self._costs:
            return self._costs[key]
        if key in self._busy:
            self._tainted = True
            return None
        self._busy.add(key)
        outer, self._tainted = getattr(self, "_tainted", False), False
        try:
            best = None
            for t in self.types_for(decl):
                c = self._type_cost(t)
                if c is not None and (best is None or c < best):
                    best = c
        finally:
            self._busy.discard(key)
        if not self._tainted or best is not None:
            # a result found while an ancestor was still being sized may be too pessimistic
            self._costs[key] = best
        self._tainted = self._tainted or outer
        return best

    def _type_cost(self, t) -> int | None:
        if not isinstance(t, ComplexType) or t.is_any or t.content is None:
            return 1
        path = automaton(self.model, t).shortest_completion(
            automaton(self.model, t).start, self._leaf_cost)
        return None if path is None else 1 + sum(self._leaf_cost(leaf)[0] for leaf, _ in path)

    def _leaf_cost(self, leaf):
        if leaf.element is not None:
            c = self.cost(leaf.element)
            return None if c is None else (c, leaf.element.name)
        picked = self.wildcard_child(leaf.wildcard)
        if picked is None:
            return None
        qname, decl = picked
        c = 1 if decl is ANY_ELEMENT else self.cost(decl)
        return None if c is None else (c, qname)

    def wildcard_child(self, wc):
        """(QName, declaration) of an element for a wildcard position."""
        if wc.process == "strict":
            for qname, decl in sorted(self.model.roots.items()):
                if wc.accepts(split(qname)[0]) and not decl.abstract:
                    return qname, decl
            return None
        for ns in [OTHER_NS] + sorted(wc.namespaces or []):
            if wc.accepts(ns) and ns not in self.model.namespaces:
                return (f"{{{ns}}}xmlcompat-any" if ns else "xmlcompat-any"), ANY_ELEMENT
        for ns in sorted(wc.namespaces or []):
            if wc.accepts(ns):
                for qname, decl in sorted(self.model.roots.items()):
                    if split(qname)[0] == ns and not decl.abstract:
                        return qname, decl
        return None

    def types_for(self, decl: Element) -> list:
        """Types an instance of `decl` may have: the declared one unless abstract, then the
        xsi:type-derived ones (all of them in random mode, cheapest-first when minimal)."""
        if decl is ANY_ELEMENT:
            return [None]
        declared = [] if getattr(decl.type, "abstract", False) else [decl.type]
        return declared + [t for _, t in decl.xsi_types]

    # -- values -----------------------------------------------------------------------------
    def value(self, st, fixed: str | None = None) -> str:
        if fixed is not None:
            return fixed
        chain = builtin_chain(st) if variety(st) == "atomic" else []
        if "ID" in chain:
            # unique in the document, and recorded so IDREFs can name it
            options = [v for v in valid_values(st, 40) if v not in self._id_values]
            options += [f"id{self._ids + i}" for i in range(1, 50)]
            for v in options:
                if v not in self._id_values and st.is_valid(v):
                    self._ids += 1
                    self._id_values.append(v)
                    return v
            raise GenerationError(f"no unused ID value for {getattr(st, 'name', None) or st}")
        key = id(st)
        if key not in self._values:
            self._values[key] = valid_values(st, 20)
        values = self._values[key]
        if not values:
            raise GenerationError(f"no value found for simple type {getattr(st, 'name', None) or st}")
        if self.minimal:
            return values[0]
        return self.rng.choice(values)

    # -- elements ---------------------------------------------------------------------------
    def element(self, decl: Element, qname: str | None = None, depth: int = 0,
                type_=None, parent=None):
        qname = qname or decl.name
        elem = etree.Element(qname) if parent is None else etree.SubElement(parent, qname)
        if decl is ANY_ELEMENT:
            return elem
        t = type_ if type_ is not None else self.pick_type(decl)
        if t is not decl.type:
            self.set_xsi_type(elem, decl, t)
        self.fill(elem, decl, t, depth)
        return elem

    def pick_type(self, decl: Element):
        options = self.types_for(decl)
        if not options:
            raise GenerationError(f"element {decl.name}: abstract type and no derived type to use")
        if self.minimal or len(options) == 1:
            sized = [(self._type_cost(t) if t is not None else 1, i, t) for i, t in enumerate(options)]
            sized = [s for s in sized if s[0] is not None]
            if not sized:
                raise GenerationError(f"element {decl.name}: no finite instance")
            return min(sized, key=lambda s: (s[0], s[1]))[2]
        return self.rng.choice(options)

    def set_xsi_type(self, elem, decl: Element, t, name: str | None = None) -> None:
        """xsi:type on `elem` naming `t` (or `name`: a witness may name the declared type)."""
        name = name or next((q for q, d in decl.xsi_types if d is t), None)
        if name is None:
            raise GenerationError(f"element {decl.name}: type not usable through xsi:type")
        ns, local = split(name)
        if ns:
            # a prefix of our own on this element, so the QName value resolves
            holder = etree.Element("x", nsmap={"t": ns})
            elem.set(f"{{{XSI}}}type", f"{holder.prefix or 't'}:{local}")
            _declare(elem, "t", ns)
        else:
            elem.set(f"{{{XSI}}}type", local)

    def fill(self, elem, decl: Element, t, depth: int) -> None:
        if not isinstance(t, ComplexType):
            elem.text = self._text(t, decl.fixed, elem)
            return
        for name, attr in t.attributes.items():
            if attr.required or (not self.minimal and self.rng.random() < 0.5):
                elem.set(name, self._attr_value(attr.type, attr.fixed, elem, name))
        if t.is_any:
            return
        if t.simple is not None:
            elem.text = self._text(t.simple, decl.fixed, elem)
            return
        if t.content is None:
            if t.mixed and decl.fixed is not None:
                elem.text = decl.fixed
            return
        for leaf, qname in self.word(t, depth):
            child_decl = leaf.element if leaf.element is not None else self._wild_decl(leaf, qname)
            self.element(child_decl, qname, depth + 1, parent=elem)
        if t.mixed and not self.minimal and self.rng.random() < 0.3:
            elem.text = "text"

    def _wild_decl(self, leaf, qname):
        if leaf.wildcard.process == "skip":
            return ANY_ELEMENT
        return self.model.roots.get(qname, ANY_ELEMENT)

    def word(self, t: ComplexType, depth: int) -> list:
        """A list of (leaf, qname) accepted by t's content model."""
        return self.complete(t, automaton(self.model, t).start, depth)

    def complete(self, t: ComplexType, state, depth: int) -> list:
        """(leaf, qname) pairs leading from `state` of t's content automaton to its end:
        the cheapest ones when minimal, a bounded random walk otherwise."""
        auto = automaton(self.model, t)
        if self.minimal or depth >= self.max_depth:
            path = auto.shortest_completion(state, self._leaf_cost)
            if path is None:
                raise GenerationError(f"type {t.name or 'anonymous'}: no finite content")
            return path
        out = []
        while True:
            stop_p = 0.35 + 0.1 * len(out)
            if auto.final(state) and (self.rng.random() < stop_p or len(out) >= self.max_children):
                return out
            if len(out) >= self.max_children:
                rest = auto.shortest_completion(state, self._leaf_cost)
                if rest is None:
                    raise GenerationError(f"type {t.name or 'anonymous'}: no finite content")
                return out + rest
            options = []
            for leaf in auto._next(state):
                c = self._leaf_cost(leaf)
                if c is not None:
                    options.append((leaf, c[1]))
            if not options:
                if auto.final(state):
                    return out
                raise GenerationError(f"type {t.name or 'anonymous'}: dead end in content model")
            leaf, qname = self.rng.choice(options)
            nxt = auto.step(state, qname)
            if nxt is None:
                return out
            state = nxt[0]
            out.append((leaf, qname))

    def _text(self, st, fixed, elem) -> str:
        chain = builtin_chain(st) if variety(st) == "atomic" else []
        if fixed is None and ("IDREF" in chain or "IDREFS" in chain):
            self._idrefs.append((elem, None))
            return "IDREF"
        return self.value(st, fixed)

    def _attr_value(self, st, fixed, elem, name) -> str:
        chain = builtin_chain(st) if variety(st) == "atomic" else []
        if fixed is None and ("IDREF" in chain or "IDREFS" in chain):
            self._idrefs.append((elem, name))
            return "IDREF"
        return self.value(st, fixed)

    def finish(self, root) -> None:
        """Point IDREFs at an ID of the document (made after all IDs exist)."""
        if self._idrefs and not self._id_values:
            raise GenerationError("IDREF without any ID in the document")
        for elem, attr in self._idrefs:
            target = self._id_values[0] if self.minimal else self.rng.choice(self._id_values)
            if attr is None:
                elem.text = target
            else:
                elem.set(attr, target)
        self._idrefs.clear()


def _declare(elem, prefix: str, ns: str) -> None:
    """Make `prefix` bound to `ns` on `elem` (lxml sets nsmap only at creation)."""
    if elem.nsmap.get(prefix) == ns:
        return
    elem.set(f"{{{ns}}}xmlcompat-ns", "")        # lxml declares a prefix for it
    prefix_used = next(p for p, u in elem.nsmap.items() if u == ns)
    del elem.attrib[f"{{{ns}}}xmlcompat-ns"]
    value = elem.get(f"{{{XSI}}}type")
    if value and value.startswith(f"{prefix}:"):
        elem.set(f"{{{XSI}}}type", f"{prefix_used}:{value.split(':', 1)[1]}")


def root_declarations(model) -> list[Element]:
    seen, out = set(), []
    for decl in model.roots.values():
        for d in substitutes(model, decl):
            if id(d) not in seen:
                seen.add(id(d))
                out.append(d)
    return out


def minimal_document(lang, decl: Element):
    gen = Generator(lang, minimal=True)
    root = gen.element(decl)
    gen.finish(root)
    return etree.ElementTree(root)


def generate_documents(lang, count: int, seed: int = 0) -> list:
    """Up to `count` random documents valid under `lang`'s schema (each checked by lxml),
    reproducible for a given seed."""
    roots = root_declarations(lang.model)
    if not roots:
        return []
    rng = random.Random(seed)
    out = []
    for attempt in range(count * 3):
        if len(out) >= count:
            break
        gen = Generator(lang, seed=rng.randrange(1 << 30), minimal=False)
        try:
            root = gen.element(rng.choice(roots))
            gen.finish(root)
        except (GenerationError, TooLarge):
            continue
        tree = etree.ElementTree(root)
        if lang.validate(tree) is None:
            out.append(tree)
    return out

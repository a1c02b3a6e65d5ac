"""What a schema says about the nodes Schematron rules talk about (Defs. 3–5).

- the element and attribute names that can occur (Def. 5: a rule step naming anything else
  selects nothing in that schema);
- for a rule's context element, how often a child element can occur (min/max over every
  declaration of that name), so `count(x) <= 1` under `maxOccurs="1"` is known to hold.

Read straight from the XSD files with lxml (entities and network off), following local
include/import/redefine. Anything not understood gives "no fact" (None), never a guess.
"""

from __future__ import annotations

import math
from pathlib import Path

from lxml import etree

XS = "http://www.w3.org/2001/XMLSchema"
_Q = f"{{{XS}}}"
INF = math.inf
_PARTICLES = (_Q + "sequence", _Q + "choice", _Q + "all", _Q + "group")


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _occurs(el) -> tuple[int, float]:
    low = int(el.get("minOccurs", "1"))
    high = el.get("maxOccurs", "1")
    return low, (INF if high == "unbounded" else int(high))


class SchemaFacts:
    """Names and occurrence bounds of one schema set (its main XSD and what it includes)."""

    def __init__(self, paths: list[Path]):
        self.element_names: set[str] = set()
        self.attribute_names: set[str] = set()
        self.element_wildcard = False
        self.attribute_wildcard = False
        self._decls: dict[str, list] = {}  # element qname -> declarations (global and local)
        self._types: dict[str, object] = {}
        self._groups: dict[str, object] = {}
        self._attr_groups: dict[str, object] = {}
        self._substituted: set[str] = set()  # heads with members or abstract: min 0
        self._tns: dict[object, str] = {}
        seen: set[Path] = set()
        for p in paths:
            self._read(Path(p).resolve(), seen)

    @classmethod
    def of(cls, lang) -> SchemaFacts | None:
        """Facts for a language object of xmlcompat's loader, a path, or None."""
        if lang is None:
            return None
        if isinstance(lang, SchemaFacts):
            return lang
        if isinstance(lang, (str, Path)):
            return cls([Path(lang)])
        cached = getattr(lang, "_rule_facts", None)
        if cached is not None:
            return cached
        paths = _language_paths(lang)
        facts = cls(paths) if paths else None
        try:
            lang._rule_facts = facts
        except AttributeError:
            pass
        return facts

    # -- reading ------------------------------------------------------------------------
    def _read(self, path: Path, seen: set[Path]) -> None:
        if path in seen or not path.is_file():
            return
        seen.add(path)
        try:
            root = etree.parse(str(path), _parser()).getroot()
        except (etree.XMLSyntaxError, OSError):
            return  # the grammar loader reports unreadable schema files; here: no facts
        tns = root.get("targetNamespace", "")
        qualified = root.get("elementFormDefault") == "qualified"
        attr_qualified = root.get("attributeFormDefault") == "qualified"
        for child in root:
            if not isinstance(child.tag, str):
                continue
            name = child.get("name")
            if name and child.tag == _Q + "complexType":
                self._types[_qn(tns, name)] = child
            elif name and child.tag == _Q + "group":
                self._groups[_qn(tns, name)] = child
            elif name and child.tag == _Q + "attributeGroup":
                self._attr_groups[_qn(tns, name)] = child
            elif child.tag in (_Q + "include", _Q + "import", _Q + "redefine"):
                loc = child.get("schemaLocation")
                if loc and "://" not in loc:
                    self._read((path.parent / loc).resolve(), seen)
        for el in root.iter(_Q + "element"):
            self._tns[el] = tns
            if el.get("name") is None:
                continue
            is_global = el.getparent() is root
            q = _qn(
                tns
                if (is_global or el.get("form", "qualified" if qualified else "") == "qualified")
                else "",
                el.get("name"),
            )
            self.element_names.add(q)
            self._decls.setdefault(q, []).append(el)
            if el.get("abstract") == "true":
                self._substituted.add(q)
            head = el.get("substitutionGroup")
            if head:
                self._substituted.add(_resolve(el, head))
        for at in root.iter(_Q + "attribute"):
            if at.get("name") is None:
                continue
            is_global = at.getparent() is root
            form = at.get("form", "qualified" if attr_qualified else "")
            self.attribute_names.add(
                _qn(tns if (is_global or form == "qualified") else "", at.get("name"))
            )
        self.element_wildcard |= root.find(".//" + _Q + "any") is not None
        self.attribute_wildcard |= root.find(".//" + _Q + "anyAttribute") is not None

    # -- Def. 5 -------------------------------------------------------------------------
    def can_occur(self, kind: str, qname: str) -> bool:
        if kind == "attribute":
            return (
                self.attribute_wildcard
                or qname in self.attribute_names
                or qname.startswith(
                    (
                        "{http://www.w3.org/2001/XMLSchema-instance}",
                        "{http://www.w3.org/XML/1998/namespace}",
                    )
                )
            )
        return self.element_wildcard or qname in self.element_names

    # -- occurrence bounds --------------------------------------------------------------
    def context(self, step: tuple[str, str] | None) -> ContextFacts:
        return ContextFacts(self, step[1] if step and step[0] in ("child", "descendant") else None)

    def child_bounds(self, parent: str, child: str) -> tuple[int, float] | None:
        decls = self._decls.get(parent)
        if not decls:
            return None
        lows, highs = [], []
        for decl in decls:
            particles = self._content(decl)
            if particles is None:
                return None
            low, high = 0, 0
            for p in particles:
                b = self._count(p, child, 0)
                if b is None:
                    return None
                low, high = low + b[0], high + b[1]
            lows.append(low)
            highs.append(high)
        return min(lows), max(highs)

    def _content(self, decl):
        """The particles of an element declaration's type (base first for extensions)."""
        ctype = decl.find(_Q + "complexType")
        if ctype is None and decl.get("type"):
            ctype = self._types.get(_resolve(decl, decl.get("type")))
            if ctype is None:  # a simple or built-in type: no element children
                return []
        if ctype is None:
            return [] if decl.get("ref") is None else None
        return self._type_particles(ctype, 0)

    def _type_particles(self, ctype, depth: int):
        if depth > 30:
            return None
        out = []
        for child in ctype:
            if child.tag in _PARTICLES:
                out.append(child)
            elif child.tag == _Q + "complexContent":
                for deriv in child:
                    if deriv.tag == _Q + "extension":
                        base = self._types.get(_resolve(deriv, deriv.get("base", "")))
                        inherited = None if base is None else self._type_particles(base, depth + 1)
                        if inherited is None:
                            return None
                        out.extend(inherited)
                    if deriv.tag in (_Q + "extension", _Q + "restriction"):
                        out.extend(c for c in deriv if c.tag in _PARTICLES)
        return out

    def _count(self, particle, child: str, depth: int):
        if depth > 40:
            return None
        tag = particle.tag
        low_o, high_o = _occurs(particle)
        if tag == _Q + "element":
            if particle.get("ref"):
                name = _resolve(particle, particle.get("ref"))
            else:
                tns = self._tns.get(particle, "")
                form = particle.get("form")
                root = particle.getroottree().getroot()
                qualified = form == "qualified" or (
                    form is None and root.get("elementFormDefault") == "qualified"
                )
                name = _qn(tns if qualified else "", particle.get("name"))
            if name == child:
                return (0 if name in self._substituted else low_o), high_o
            if name in self._substituted:
                return None  # a substitution member named `child` may stand here
            return 0, 0
        if tag == _Q + "any":
            return None  # a wildcard may admit the child: no fact rather than a guess
        if tag == _Q + "group":
            group = self._groups.get(_resolve(particle, particle.get("ref", "")))
            inner = (
                [c for c in group if c.tag in (_Q + "sequence", _Q + "choice", _Q + "all")]
                if group is not None
                else []
            )
            if not inner:
                return None
            b = self._count(inner[0], child, depth + 1)
            return None if b is None else (b[0] * low_o, _mul(b[1], high_o))
        if tag in (_Q + "sequence", _Q + "all", _Q + "choice"):
            parts = [
                self._count(c, child, depth + 1)
                for c in particle
                if c.tag
                in (_Q + "element", _Q + "any", _Q + "group", _Q + "sequence", _Q + "choice")
            ]
            if any(b is None for b in parts):
                return None
            if not parts:
                return 0, 0
            if tag == _Q + "choice":
                low, high = min(b[0] for b in parts), max(b[1] for b in parts)
            else:
                low, high = sum(b[0] for b in parts), sum(b[1] for b in parts)
            return low * low_o, _mul(high, high_o)
        return 0, 0


class ContextFacts:
    """The facts for one rule context element, in the form xpath_rules asks for them."""

    def __init__(self, schema: SchemaFacts, element: str | None):
        self.schema, self.element = schema, element

    def _child(self, path):
        if self.element is None or path[0] != "step" or path[1] != "child" or "*" in path[2]:
            return None
        return self.schema.child_bounds(self.element, path[2])

    def min_occurs(self, path):
        b = self._child(path)
        return None if b is None else b[0]

    def max_occurs(self, path):
        b = self._child(path)
        return None if b is None else b[1]


def _mul(a, b):
    return 0 if a == 0 or b == 0 else a * b


def _qn(ns: str, local: str) -> str:
    return f"{{{ns}}}{local}" if ns else local


def _resolve(el, qname: str) -> str:
    prefix, _, local = qname.rpartition(":")
    ns = el.nsmap.get(prefix or None, "")
    return _qn(ns or "", local)


def _language_paths(lang) -> list[Path]:
    for attr in ("files", "paths", "schema_files", "documents"):
        value = getattr(lang, attr, None)
        if value:
            items = value.values() if isinstance(value, dict) else value
            return [Path(getattr(v, "path", v)) for v in items]
    for attr in ("path", "main", "xsd", "schema_path"):
        value = getattr(lang, attr, None)
        if isinstance(value, (str, Path)):
            return [Path(value)]
    return []

"""The checker's own small component model, translated from xmlschema's components.

Element declarations, complex types (attributes, attribute wildcard, content particle or
simple content, mixed), particles (element / wildcard / sequence / choice / all with
occurrence bounds) and wildcards as namespace classes. Simple types stay xmlschema objects
(values.py reasons about their facets). Substitution groups and the types derivable for
`xsi:type` are resolved here, so the automata and the generator never look at xmlschema.
"""

from __future__ import annotations

from dataclasses import dataclass, field

XS = "http://www.w3.org/2001/XMLSchema"
ANY_TYPE = f"{{{XS}}}anyType"
OTHER_NS = "urn:xmlcompat:other"     # a namespace no schema declares: stands for "any other"


def split(qname: str) -> tuple[str, str]:
    if qname.startswith("{"):
        ns, local = qname[1:].split("}", 1)
        return ns, local
    return "", qname


@dataclass(frozen=True)
class Wildcard:
    """A namespace class: `namespaces` (None = any) minus `not_namespaces`; '' is no namespace."""
    namespaces: frozenset | None
    not_namespaces: frozenset
    process: str                 # strict | lax | skip

    def accepts(self, ns: str) -> bool:
        if ns in self.not_namespaces:
            return False
        return self.namespaces is None or ns in self.namespaces

    def describe(self) -> str:
        if self.namespaces is None:
            inner = "##any" if not self.not_namespaces else "not " + " ".join(sorted(self.not_namespaces) or ["''"])
        else:
            inner = " ".join(sorted(n or "##local" for n in self.namespaces))
        return f"{inner} ({self.process})"


@dataclass(eq=False)
class Attribute:
    name: str
    type: object                 # xmlschema simple type
    required: bool
    fixed: str | None
    default: str | None
    location: str = ""


@dataclass(eq=False)
class Particle:
    kind: str                    # element | any | sequence | choice | all
    min: int
    max: int | None              # None = unbounded
    element: Element | None = None
    wildcard: Wildcard | None = None
    children: list = field(default_factory=list)
    group_name: str | None = None


@dataclass(eq=False)
class ComplexType:
    name: str | None             # None: anonymous
    attributes: dict             # QName -> Attribute (prohibited ones left out)
    attr_wildcard: Wildcard | None
    content: Particle | None     # element content (None: empty or simple content)
    simple: object | None        # xmlschema simple type of simple content
    mixed: bool
    abstract: bool
    is_any: bool = False         # xs:anyType: anything goes
    base: str | None = None
    derivation: str | None = None
    block: frozenset = frozenset()
    location: str = ""
    file: str = ""


@dataclass(eq=False)
class Element:
    name: str
    type: object                 # ComplexType or xmlschema simple type
    nillable: bool
    abstract: bool
    fixed: str | None
    default: str | None
    is_global: bool
    block: frozenset
    identities: tuple = ()       # signatures of key/unique/keyref
    location: str = ""
    xs: object = None            # the xmlschema declaration (for xsi:type lookups)
    xsi_types: list = field(default_factory=list)   # [(QName, type)] usable via xsi:type

    @property
    def type_name(self) -> str | None:
        t = self.type
        return t.name if isinstance(t, ComplexType) else getattr(t, "name", None)


#: the declaration a skip wildcard (or lax without a declaration) gives its elements
ANY_ELEMENT = Element("{*}*", None, True, False, None, None, False, frozenset())


@dataclass
class Model:
    roots: dict                  # QName -> Element (global, including abstract ones)
    types: dict                  # QName -> ComplexType | simple type (named, global)
    attributes: dict             # QName -> Attribute (global)
    namespaces: set


def _wildcard(xs_wc) -> Wildcard:
    names = xs_wc.namespace
    if names is None or "##any" in names or "##other" in names:
        spaces = None
    else:
        spaces = frozenset(n for n in names)
    not_ns = set(getattr(xs_wc, "not_namespace", ()) or ())
    if names and "##other" in names:
        not_ns |= {xs_wc.target_namespace, ""}
    return Wildcard(spaces, frozenset(not_ns), xs_wc.process_contents or "strict")


class _Builder:
    def __init__(self, lang):
        self.lang = lang
        self.xs = lang.xs
        self.elements: dict[int, Element] = {}
        self.types: dict[int, object] = {}
        self._derived: dict | None = None

    # -- types ----------------------------------------------------------------------------
    def type_of(self, xs_type):
        if not getattr(xs_type, "is_complex", lambda: False)():
            return xs_type                              # simple types stay xmlschema objects
        key = id(xs_type)
        if key in self.types:
            return self.types[key]
        is_any = xs_type.name == ANY_TYPE
        ct = ComplexType(xs_type.name, {}, None, None, None, bool(xs_type.mixed),
                         bool(xs_type.abstract), is_any=is_any,
                         base=getattr(xs_type.base_type, "name", None),
                         derivation=xs_type.derivation,
                         block=frozenset((xs_type.block or "").split()),
                         location=self.lang.location(xs_type))
        self.types[key] = ct
        if is_any:
            ct.mixed = True
            return ct
        for name, attr in xs_type.attributes.items():
            if name is None:
                ct.attr_wildcard = _wildcard(attr)
                continue
            if attr.use == "prohibited":
                continue
            ct.attributes[name] = Attribute(name, attr.type, attr.use == "required", attr.fixed,
                                            attr.default, self.lang.location(attr))
        if xs_type.has_simple_content():
            ct.simple = xs_type.content
        elif not xs_type.is_empty():
            ct.content = self.particle(xs_type.content)
        return ct

    # -- particles ------------------------------------------------------------------------
    def particle(self, xs_p) -> Particle:
        kind = type(xs_p).__name__
        lo, hi = xs_p.min_occurs, xs_p.max_occurs
        if kind == "XsdElement":
            return Particle("element", lo, hi, element=self.element(xs_p))
        if kind == "XsdAnyElement":
            return Particle("any", lo, hi, wildcard=_wildcard(xs_p))
        model = xs_p.model
        children = [self.particle(c) for c in xs_p]
        return Particle(model, lo, hi, children=children, group_name=xs_p.name)

    def element(self, xs_el) -> Element:
        target = xs_el.ref if xs_el.ref is not None else xs_el
        key = id(target)
        if key in self.elements:
            return self.elements[key]
        block = frozenset((target.block or "").split()) if isinstance(target.block, str) else frozenset(target.block or ())
        idents = tuple(sorted(_identity_signature(c) for c in (target.identities or [])))
        el = Element(target.name, None, bool(target.nillable), bool(target.abstract),
                     target.fixed, target.default, target.is_global(), block, idents,
                     self.lang.location(target), xs=target)
        self.elements[key] = el
        el.type = self.type_of(target.type)
        return el

    def xsi_types(self, el: Element) -> list:
        """Named types of the schema set a document may put in xsi:type on `el`: every type
        derived from the declared one and not blocked by element or type. (The declared type
        itself, and built-in types, are left out: see docs/compatibility.md.)"""
        if self._derived is None:
            self._derived = {}
            for qname, xs_type in self.xs.maps.types.items():
                if split(qname)[0] == XS or not _ours(self.lang, xs_type) or xs_type.abstract:
                    continue
                t, steps = xs_type, []
                while True:
                    base = getattr(t, "base_type", None)
                    if base is None or base is t:
                        break
                    steps.append(getattr(t, "derivation", None) or "restriction")
                    self._derived.setdefault(id(base), []).append((qname, xs_type, tuple(steps)))
                    t = base
        declared = el.xs.type
        if declared.name is None or split(declared.name)[0] == XS:
            # Types are substituted through xsi:type only below a declared type of the set:
            # an element of a built-in type (xs:string, xs:anyType…) is not tried with every
            # schema type derived from it (see docs/compatibility.md).
            return []
        blocked = set(el.block) | set(getattr(el.type, "block", ()) or ())
        return [(qname, self.type_of(xs_type))
                for qname, xs_type, steps in self._derived.get(id(el.xs.type), [])
                if not set(steps) & blocked]


def _identity_signature(constraint) -> str:
    kind = type(constraint).__name__.replace("Xsd", "").lower()
    selector = getattr(constraint.selector, "path", "") if constraint.selector is not None else ""
    fields = ",".join(getattr(f, "path", "") for f in constraint.fields)
    refer = getattr(constraint, "refer", None)
    refer = getattr(refer, "name", refer) or ""
    return f"{kind} {constraint.name} {selector} [{fields}] {refer}".strip()


def build_model(lang) -> Model:
    b = _Builder(lang)
    roots = {}
    for qname, xs_el in lang.xs.maps.elements.items():
        if split(qname)[0] == XS or not _ours(lang, xs_el):
            continue
        roots[qname] = b.element(xs_el)
    types = {}
    for qname, xs_type in lang.xs.maps.types.items():
        if split(qname)[0] == XS or not _ours(lang, xs_type):
            continue
        types[qname] = b.type_of(xs_type)
    attributes = {}
    for qname, xs_attr in lang.xs.maps.attributes.items():
        if _ours(lang, xs_attr):
            attributes[qname] = Attribute(qname, xs_attr.type, False, xs_attr.fixed, xs_attr.default,
                                          lang.location(xs_attr))
    # Derived types usable through xsi:type: computed for every declaration built so far
    # (built lazily: a type's declarations are all reached from the globals above).
    for el in list(b.elements.values()):
        el.xsi_types = b.xsi_types(el)
    model = Model(roots, types, attributes, set(lang.target_namespaces))
    model.builder = b
    return model


def _ours(lang, component) -> bool:
    url = getattr(component.schema, "url", "") or ""
    return "/xmlschema/schemas/" not in url     # the xml: and xsi: schemas xmlschema bundles


def substitutes(model: Model, el: Element) -> list[Element]:
    """The declarations that may appear where `el` is referenced: itself unless abstract, and
    the members of its substitution group (transitively) unless blocked."""
    out = [] if el.abstract else [el]
    if not el.is_global or "substitution" in el.block:
        return out
    b = model.builder
    for member in el.xs.iter_substitutes():
        m = b.element(member)
        if not m.abstract and m is not el:
            if not m.xsi_types and member is not None:
                m.xsi_types = b.xsi_types(m)
            out.append(m)
    return out

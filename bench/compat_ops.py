"""Change operators of the xmlcompat mutation corpus: lxml tree edits of XSD schema sets.

A schema set is {file name: lxml root}; "main.xsd" is the one given to the checker. An operator
gets a fresh copy of the base and a seeded Random, edits it in place and returns the pair
(A, B) it made (usually A = the base), or None when the base has no site for it. Whether a pair
is compatible is NOT decided here: the oracle in bench/compat_oracle.py labels it.
"""

from __future__ import annotations

from lxml import etree

XS = "http://www.w3.org/2001/XMLSchema"
Q = f"{{{XS}}}"
COMPOSITORS = (Q + "sequence", Q + "choice", Q + "all")
OPERATORS: dict[str, object] = {}


def operator(name: str):
    def register(fn):
        OPERATORS[name] = fn
        return fn

    return register


def _x(tag: str, **attrs):
    return etree.Element(Q + tag, {k.rstrip("_"): v for k, v in attrs.items()})


def _all(files, path: str):
    return [(name, el) for name, root in files.items() for el in root.iterfind(path, {"xs": XS})]


def _pick(rng, items):
    return rng.choice(items) if items else None


def _particles(files):
    """Local element particles (not global declarations) inside a compositor."""
    return [el for _, el in _all(files, ".//xs:element") if el.getparent().tag in COMPOSITORS]


def _tns_ref(root, local: str) -> str:
    tns = root.get("targetNamespace")
    if not tns:
        return local
    prefix = next((p for p, u in root.nsmap.items() if u == tns and p), None)
    return f"{prefix}:{local}" if prefix else local


def _occ(el):
    low = int(el.get("minOccurs", "1"))
    high = el.get("maxOccurs", "1")
    return low, (None if high == "unbounded" else int(high))


def _restrictions(files, base_kinds=None):
    out = []
    for _, r in _all(files, ".//xs:simpleType/xs:restriction"):
        base = r.get("base", "").split(":")[-1]
        if base_kinds is None or base in base_kinds:
            out.append(r)
    return out


STRINGS = {"string", "token", "normalizedString", "language", "anyURI"}
NUMBERS = {"int", "integer", "decimal", "positiveInteger", "nonNegativeInteger", "long", "short"}


def _string_elements(files):
    return [el for el in _particles(files) if el.get("type", "").split(":")[-1] == "string"]


def _to_restriction(el, base: str):
    """Turn `<element type="xs:base"/>` into an inline simpleType restriction and return it."""
    prefix = el.get("type").split(":")[0]
    del el.attrib["type"]
    st = etree.SubElement(el, Q + "simpleType")
    return etree.SubElement(st, Q + "restriction", base=f"{prefix}:{base}")


# -- elements and occurrences ------------------------------------------------------------------
@operator("ELEMENT_REMOVED")
def element_removed(files, rng):
    el = _pick(rng, [p for p in _particles(files) if len(p.getparent()) > 1])
    if el is None:
        return None
    el.getparent().remove(el)
    return files


def _added(files, rng, optional: bool):
    seqs = [s for _, s in _all(files, ".//xs:sequence")]
    seq = _pick(rng, seqs)
    if seq is None:
        return None
    new = _x("element", name=f"added{rng.randrange(100)}", type="xs:string")
    if optional:
        new.set("minOccurs", "0")
    seq.insert(rng.randrange(len(seq) + 1), new)
    return files


@operator("REQUIRED_ELEMENT_ADDED")
def required_added(files, rng):
    return _added(files, rng, False)


@operator("OPTIONAL_ELEMENT_ADDED")
def optional_added(files, rng):
    return _added(files, rng, True)


@operator("MIN_OCCURS_RAISED")
def min_raised(files, rng):
    el = _pick(rng, [p for p in _particles(files) if _occ(p)[0] == 0])
    if el is None:
        return None
    el.set("minOccurs", "1")
    return files


@operator("MIN_OCCURS_LOWERED")
def min_lowered(files, rng):
    el = _pick(rng, [p for p in _particles(files) if _occ(p)[0] >= 1])
    if el is None:
        return None
    el.set("minOccurs", "0")
    return files


@operator("MAX_OCCURS_LOWERED")
def max_lowered(files, rng):
    el = _pick(rng, [p for p in _particles(files) if _occ(p)[1] != 1])
    if el is None:
        return None
    low, high = _occ(el)
    el.set("maxOccurs", str(max(low, 1, (high or 3) - 1)))
    return files


@operator("MAX_OCCURS_RAISED")
def max_raised(files, rng):
    el = _pick(rng, [p for p in _particles(files) if _occ(p)[1] is not None])
    if el is None:
        return None
    el.set("maxOccurs", rng.choice(["unbounded", str(_occ(el)[1] + 1)]))
    return files


@operator("SEQUENCE_REORDERED")
def sequence_reordered(files, rng):
    seq = _pick(rng, [s for _, s in _all(files, ".//xs:sequence") if len(s) > 1])
    if seq is None:
        return None
    i = rng.randrange(len(seq) - 1)
    seq.insert(i, seq[i + 1])
    return files


@operator("CHOICE_REORDERED")
def choice_reordered(files, rng):
    ch = _pick(rng, [c for _, c in _all(files, ".//xs:choice") if len(c) > 1])
    if ch is None:
        return None
    kids = list(ch)
    rng.shuffle(kids)
    if kids == list(ch):
        kids.reverse()
    for k in kids:
        ch.append(k)
    return files


@operator("ELEMENT_RENAMED")
def element_renamed(files, rng):
    el = _pick(rng, [p for p in _particles(files) if p.get("name")])
    if el is None:
        return None
    el.set("name", el.get("name") + "Renamed")
    return files


@operator("TYPE_CHANGED")
def type_changed(files, rng):
    swaps = {
        "string": "int",
        "int": "string",
        "dateTime": "string",
        "date": "dateTime",
        "decimal": "int",
        "boolean": "string",
        "anyURI": "string",
        "integer": "decimal",
    }
    els = [p for p in _particles(files) if p.get("type", "").split(":")[-1] in swaps]
    el = _pick(rng, els)
    if el is None:
        return None
    prefix, local = el.get("type").split(":")
    el.set("type", f"{prefix}:{swaps[local]}")
    return files


@operator("ALL_TO_SEQUENCE")
def all_to_sequence(files, rng):
    el = _pick(rng, [a for _, a in _all(files, ".//xs:all")])
    if el is None:
        return None
    el.tag = Q + "sequence"
    return files


@operator("SEQUENCE_TO_ALL")
def sequence_to_all(files, rng):
    seqs = [
        s
        for _, s in _all(files, ".//xs:sequence")
        if s.getparent().tag == Q + "complexType"
        and len(s) > 1
        and all(c.tag == Q + "element" and _occ(c)[1] == 1 for c in s)
    ]
    el = _pick(rng, seqs)
    if el is None:
        return None
    el.tag = Q + "all"
    return files


@operator("MIXED_ADDED")
def mixed_added(files, rng):
    ct = _pick(
        rng,
        [
            c
            for _, c in _all(files, ".//xs:complexType")
            if c.get("mixed") != "true" and c.find(Q + "simpleContent") is None
        ],
    )
    if ct is None:
        return None
    ct.set("mixed", "true")
    return files


@operator("MIXED_REMOVED")
def mixed_removed(files, rng):
    ct = _pick(rng, [c for _, c in _all(files, ".//xs:complexType") if c.get("mixed") == "true"])
    if ct is None:
        return None
    del ct.attrib["mixed"]
    return files

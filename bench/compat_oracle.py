"""The corpus oracle: a brute-force random document sampler for schema set A, independent of
xmlcompat (it reads the XSD files with lxml and shares no code with the checker). A pair is
"incompatible" when a sampled document valid under A (lxml) fails B (lxml), else
"not refuted". Values lean to the edges of every facet, occurrences to their bounds, so that
tightened facets, lowered maxima and removed choices are hit with few samples.
"""

from __future__ import annotations

import copy
import random

from lxml import etree

from bench.compat_facets import BUILTIN_SAMPLES, edges, fits
from bench.compat_regex import regex_sample

XS = "http://www.w3.org/2001/XMLSchema"
Q = f"{{{XS}}}"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
FOREIGN = "urn:oracle:foreign"

class Sampler:
    """Random instances of one XSD schema set ({file name: lxml root})."""

    def __init__(self, files: dict, self_xsi_type: bool = True):
        self.self_xsi_type = self_xsi_type  # may xsi:type name an element's own declared type
        self.redundant: list = []  # elements of the last document given such an xsi:type
        self.g: dict[tuple[str, str], dict] = {
            k: {}
            for k in (
                "element",
                "complexType",
                "simpleType",
                "group",
                "attributeGroup",
                "attribute",
            )
        }
        self.members: dict[str, list] = {}
        self.derived: dict[str, list] = {}
        for root in files.values():
            tns = root.get("targetNamespace", "")
            for child in root:
                kind = etree.QName(child).localname if isinstance(child.tag, str) else None
                if kind in self.g and child.get("name"):
                    self.g[kind]["{{{}}}{}".format(tns, child.get("name"))] = child
        for q, el in self.g["element"].items():
            if el.get("substitutionGroup"):
                self.members.setdefault(self.qname(el, el.get("substitutionGroup")), []).append(q)
        for q, ct in self.g["complexType"].items():
            ext = ct.find(f"{Q}complexContent/{Q}extension")
            if ext is None:
                ext = ct.find(f"{Q}complexContent/{Q}restriction")
            if ext is not None:
                self.derived.setdefault(self.qname(ext, ext.get("base")), []).append(q)

    @staticmethod
    def qname(el, ref: str) -> str:
        prefix, _, local = ref.rpartition(":")
        return "{{{}}}{}".format(el.nsmap.get(prefix or None, "") or "", local)

    @staticmethod
    def tns(el) -> str:
        return el.getroottree().getroot().get("targetNamespace", "")

    def document(self, rng: random.Random):
        roots = [q for q in self.g["element"] if self.g["element"][q].get("abstract") != "true"]
        if not roots:
            return None
        self.rng, self.ids, self.redundant = rng, 0, []
        return etree.ElementTree(self.element_global(rng.choice(roots), 0))

    def element_global(self, q: str, depth: int):
        choices = [q] if self.g["element"][q].get("abstract") != "true" else []
        stack = list(self.members.get(q, []))
        while stack:  # members of members stand in for the head too
            m = stack.pop()
            choices.append(m)
            stack.extend(self.members.get(m, []))
        choices = [c for c in choices if self.g["element"][c].get("abstract") != "true"] or [q]
        pick = self.rng.choice(choices)
        decl = self.g["element"][pick]
        return self.instance(
            decl, etree.QName(pick).text if pick.startswith("{}") is False else pick[2:], depth
        )

    def instance(self, decl, tag: str, depth: int):
        el = etree.Element(tag.replace("{}", ""))
        rng = self.rng
        if decl.get("nillable") == "true" and decl.get("fixed") is None and rng.random() < 0.15:
            el.set(f"{{{XSI}}}nil", "true")
            ctype = self.complex_of(decl)
            if ctype is not None:
                self.attributes(ctype, el)
            return el
        ctype = self.complex_of(decl)
        if ctype is not None:
            tq = self.qname(decl, decl.get("type")) if decl.get("type") else None
            options = ([tq] if tq and ctype.get("abstract") != "true" else []) + self.all_derived(
                tq
            )
            if tq and options and (ctype.get("abstract") == "true" or rng.random() < 0.25):
                chosen = rng.choice(options)
                ctype = self.g["complexType"][chosen]
                # xsi:type may name the declared type itself: valid, and it ties the document
                # to the type's name (a renamed type no longer accepts it)
                if chosen != tq or self.self_xsi_type:
                    el.set(f"{{{XSI}}}type", self.prefixed(el, chosen))
                    if chosen == tq:
                        self.redundant.append(el)
            self.fill(el, ctype, depth)
        else:
            st = self.simple_of(decl)
            named = not isinstance(st, str) and st is not None and st.get("name")
            # the draw is made in both modes, so both sample the same documents
            if named and rng.random() < 0.2 and self.self_xsi_type:
                el.set(
                    f"{{{XSI}}}type",
                    self.prefixed(el, "{{{}}}{}".format(self.tns(st), st.get("name"))),
                )
                self.redundant.append(el)
            el.text = decl.get("fixed") or self.value(st)
        return el

    def all_derived(self, tq):
        out, stack = [], list(self.derived.get(tq, [])) if tq else []
        while stack:
            d = stack.pop()
            if self.g["complexType"][d].get("abstract") != "true":
                out.append(d)
            stack.extend(self.derived.get(d, []))
        return out

    @staticmethod
    def prefixed(el, q: str) -> str:
        ns, local = q[1:].split("}")
        if not ns:
            return local
        el.set(f"{{{ns}}}dummy", "x")  # lxml declares the namespace with a prefix here
        del el.attrib[f"{{{ns}}}dummy"]
        prefix = next(p for p, u in el.nsmap.items() if u == ns and p)
        return f"{prefix}:{local}"

    def complex_of(self, decl):
        ct = decl.find(Q + "complexType")
        if ct is None and decl.get("type"):
            ct = self.g["complexType"].get(self.qname(decl, decl.get("type")))
        return ct

    def simple_of(self, decl):
        st = decl.find(Q + "simpleType")
        if st is not None:
            return st
        if not decl.get("type"):
            return None
        return self._simple(decl, decl.get("type"))

    def _simple(self, el, ref: str):
        """A named simple type's declaration, or the qualified name of a built-in one."""
        q = self.qname(el, ref)
        found = self.g["simpleType"].get(q)
        return found if found is not None else q

    # -- complex content ---------------------------------------------------------------------
    def fill(self, el, ctype, depth: int):
        self.attributes(ctype, el)
        sc = ctype.find(Q + "simpleContent")
        if sc is not None:
            deriv = sc[0] if len(sc) else None
            base = self._simple(deriv, deriv.get("base"))
            el.text = self.value(base)
            return
        for part in self.particles(ctype):
            self.particle(el, part, depth)
        if ctype.get("mixed") == "true" and self.rng.random() < 0.4:
            el.text = "mixed"

    def particles(self, ctype, depth: int = 0):
        out = []
        cc = ctype.find(Q + "complexContent")
        if cc is not None:
            deriv = cc[0]
            if deriv.tag == Q + "extension" and depth < 10:
                base = self.g["complexType"].get(self.qname(deriv, deriv.get("base")))
                if base is not None:
                    out += self.particles(base, depth + 1)
            holder = deriv
        else:
            holder = ctype
        out += [
            c for c in holder if c.tag in (Q + "sequence", Q + "choice", Q + "all", Q + "group")
        ]
        return out

    def attr_decls(self, ctype, depth: int = 0):
        holders, inherited = [ctype], []
        cc = ctype.find(Q + "complexContent")
        sc = ctype.find(Q + "simpleContent")
        for c in (cc, sc):
            if c is not None and len(c):
                holders.append(c[0])
                if c[0].tag == Q + "extension" and depth < 10:
                    base = self.g["complexType"].get(self.qname(c[0], c[0].get("base")))
                    if base is not None:
                        inherited += self.attr_decls(base, depth + 1)
        out = inherited
        for h in holders:
            out += h.findall(Q + "attribute")
            for ag in h.findall(Q + "attributeGroup"):
                group = self.g["attributeGroup"].get(self.qname(ag, ag.get("ref", "")))
                if group is not None:
                    out += group.findall(Q + "attribute")
        return out

    def attributes(self, ctype, el):
        for a in self.attr_decls(ctype):
            if a.get("use") == "prohibited" or a.tag != Q + "attribute":
                continue
            decl = self.g["attribute"].get(self.qname(a, a.get("ref"))) if a.get("ref") else a
            if decl is None or (a.get("use") != "required" and self.rng.random() < 0.4):
                continue
            name = decl.get("name")
            if a.get("ref") or a.get("form") == "qualified":
                name = f"{{{self.tns(decl)}}}{name}"
            st = self.simple_of(decl)
            value = (
                decl.get("fixed")
                or a.get("fixed")
                or self.value(st if st is not None else f"{{{XS}}}string")
            )
            el.set(name, value)

    def occurs(self, p, depth: int) -> int:
        low = int(p.get("minOccurs", "1"))
        high = p.get("maxOccurs", "1")
        high = low + 3 if high == "unbounded" else int(high)
        if depth > 5:
            return low
        return self.rng.choice([low, high, self.rng.randint(low, high)])

    def particle(self, el, p, depth: int):
        tag = p.tag
        for _ in range(self.occurs(p, depth)):
            if tag == Q + "element":
                if p.get("ref"):
                    el.append(self.element_global(self.qname(p, p.get("ref")), depth + 1))
                else:
                    root = p.getroottree().getroot()
                    qualified = p.get(
                        "form", "qualified" if root.get("elementFormDefault") == "qualified" else ""
                    )
                    ns = self.tns(p) if qualified == "qualified" else ""
                    el.append(
                        self.instance(
                            p,
                            "{{{}}}{}".format(ns, p.get("name")) if ns else p.get("name"),
                            depth + 1,
                        )
                    )
            elif tag == Q + "sequence":
                for c in p:
                    self.particle(el, c, depth + 1)
            elif tag == Q + "all":
                kids = list(p)
                self.rng.shuffle(kids)
                for c in kids:
                    self.particle(el, c, depth + 1)
            elif tag == Q + "choice":
                kids = [c for c in p if c.tag != Q + "annotation"]
                if kids:
                    self.particle(el, self.rng.choice(kids), depth + 1)
            elif tag == Q + "group":
                group = self.g["group"].get(self.qname(p, p.get("ref", "")))
                for c in group if group is not None else []:
                    if c.tag in (Q + "sequence", Q + "choice", Q + "all"):
                        self.particle(el, c, depth + 1)
            elif tag == Q + "any":
                ns = p.get("namespace", "##any")
                target = FOREIGN if ns in ("##any", "##other") else ns.split()[0]
                if target == "##targetNamespace":
                    target = self.tns(p)
                if target == "##local":
                    target = ""
                etree.SubElement(el, f"{{{target}}}extra" if target else "extra")

    # -- simple values -----------------------------------------------------------------------
    def value(self, st, depth: int = 0) -> str:
        rng = self.rng
        if st is None or depth > 10:
            return "v"
        if isinstance(st, str):  # a built-in type name {ns}local
            local = st.split("}")[-1]
            if local == "ID":
                self.ids += 1
                return f"id{self.ids}"
            if local == "IDREF":
                return "id1" if self.ids else "none"
            if local == "string" and rng.random() < 0.3:
                return "s" * rng.choice([0, 1, 2, 5, 13, 40, 81, 129, 257, 513, 1025])
            return rng.choice(BUILTIN_SAMPLES.get(local, ["v"]))
        lst = st.find(Q + "list")
        if lst is not None:
            item = lst.find(Q + "simpleType")
            if item is None:
                item = self._simple(lst, lst.get("itemType"))
            return " ".join(self.value(item, depth + 1) for _ in range(rng.randint(0, 3)))
        union = st.find(Q + "union")
        if union is not None:
            members = list(union.findall(Q + "simpleType")) + [
                self._simple(union, m) for m in union.get("memberTypes", "").split()
            ]
            return self.value(rng.choice(members), depth + 1) if members else "v"
        r = st.find(Q + "restriction")
        if r is None:
            return "v"
        inner = r.find(Q + "simpleType")
        base = inner if inner is not None else self._simple(r, r.get("base"))
        enums = [e.get("value") for e in r.findall(Q + "enumeration")]
        if enums:
            return rng.choice(enums)
        facets = {etree.QName(f).localname: f.get("value") for f in r if isinstance(f.tag, str)}
        candidates = [self.value(base, depth + 1) for _ in range(4)]
        if "pattern" in facets:
            candidates = [regex_sample(facets["pattern"], rng) or "p" for _ in range(4)]
        candidates += edges(facets)
        good = [c for c in candidates if fits(c, facets)]
        return rng.choice(good) if good else candidates[0]


def refute(
    files_a: dict,
    schema_a: etree.XMLSchema,
    schema_b: etree.XMLSchema,
    *,
    samples: int = 120,
    seed: int = 0,
    to_b=None,
    self_xsi_type: bool = True,
) -> tuple[etree._ElementTree | None, int]:
    """(a document valid under A and invalid under B, or None; how many valid A documents tried).
    `to_b` renames a document into B's namespaces when the versions map one to the other;
    `self_xsi_type=False` never writes an xsi:type naming the element's own declared type."""
    sampler = Sampler(files_a, self_xsi_type)
    rng = random.Random(seed)
    valid = 0
    for _ in range(samples * 3):
        if valid >= samples:
            break
        try:
            doc = sampler.document(rng)
        except (RecursionError, KeyError, ValueError, IndexError, StopIteration):
            continue
        if doc is None:
            break
        if not schema_a.validate(doc):
            continue
        valid += 1
        if not schema_b.validate(to_b(doc) if to_b else doc):
            return doc, valid
    return None, valid


def refute_both(
    files_a: dict,
    schema_a: etree.XMLSchema,
    schema_b: etree.XMLSchema,
    *,
    samples: int = 120,
    seed: int = 0,
    to_b=None,
) -> tuple[etree._ElementTree | None, etree._ElementTree | None, int]:
    """(refutation under the default definition of L(A), refutation under the strict one,
    valid A documents tried). Default (docs/compatibility.md, "Type names"): documents whose
    xsi:type names an element's own declared type are left out of L(A); strict: lxml's
    validity alone. Each sample is drawn with such redundant xsi:types, checked against B as
    it is (strict), then without them (default: the same document, since naming the declared
    type changes nothing under A). A default refutation is a strict one too."""
    sampler = Sampler(files_a, self_xsi_type=True)
    rng = random.Random(seed)
    to_b = to_b or (lambda d: d)
    valid = 0
    strict = None
    for _ in range(samples * 3):
        if valid >= samples:
            break
        try:
            doc = sampler.document(rng)
        except (RecursionError, KeyError, ValueError, IndexError, StopIteration):
            continue
        if doc is None:
            break
        if not schema_a.validate(doc):
            continue
        valid += 1
        strict_bad = not schema_b.validate(to_b(doc))
        if strict_bad and strict is None:
            strict = copy.deepcopy(doc)
        if sampler.redundant:
            for el in sampler.redundant:
                del el.attrib[f"{{{XSI}}}type"]
            if not schema_a.validate(doc):  # cannot happen (the type is the declared one)
                continue
            default_bad = not schema_b.validate(to_b(doc))
        else:
            default_bad = strict_bad
        if default_bad:
            return doc, strict if strict is not None else doc, valid
    return None, strict, valid

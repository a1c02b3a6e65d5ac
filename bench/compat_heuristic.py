"""The paper-style baseline: rules over a structural diff of two schema sets, no automata.

Both sets are flattened into named items (element paths by name, with occurrences, type
names, facets, position in their compositor; attributes; wildcards; substitution members);
each difference is judged by a fixed rule, as Dui & Emmerich's heuristics and today's
rule-based tools do. Names, not languages, are compared: a renamed type or a reordered
choice is "incompatible" here, and what the rules do not list is "compatible".
"""

from __future__ import annotations

from lxml import etree

XS = "http://www.w3.org/2001/XMLSchema"
Q = f"{{{XS}}}"
_FACETS = (
    "length",
    "minLength",
    "maxLength",
    "minInclusive",
    "maxInclusive",
    "minExclusive",
    "maxExclusive",
    "totalDigits",
    "fractionDigits",
    "pattern",
    "enumeration",
    "whiteSpace",
)


def _local(ref: str | None) -> str:
    return (ref or "").split(":")[-1]


class _Flat:
    def __init__(self, files: dict):
        self.items: dict[str, dict] = {}
        self.g = {
            k: {} for k in ("element", "complexType", "simpleType", "group", "attributeGroup")
        }
        self.tns = {r.get("targetNamespace", "") for r in files.values()}
        for root in files.values():
            for child in root:
                kind = etree.QName(child).localname if isinstance(child.tag, str) else ""
                if kind in self.g and child.get("name"):
                    self.g[kind][child.get("name")] = child
        for name, el in self.g["element"].items():
            self.items[f"root:{name}"] = {"abstract": el.get("abstract") == "true"}
            if el.get("substitutionGroup"):
                self.items[f"member:{_local(el.get('substitutionGroup'))}:{name}"] = {}
            self.element(el, f"/{name}", 0)

    def facets(self, holder) -> dict:
        st = holder.find(Q + "simpleType") if holder is not None else None
        if st is None:
            return {}
        r = st.find(Q + "restriction")
        if r is None:
            return {"variety": etree.QName(st[0]).localname if len(st) else ""}
        out: dict = {"base": _local(r.get("base"))}
        for f in r:
            name = etree.QName(f).localname if isinstance(f.tag, str) else ""
            if name in ("enumeration", "pattern"):
                out.setdefault(name, set()).add(f.get("value"))
            elif name in _FACETS:
                out[name] = f.get("value")
        return out

    def element(self, el, path: str, depth: int, index: int = 0, compositor: str = ""):
        if el.get("ref"):
            self.items[f"el:{path}"] = {
                "ref": _local(el.get("ref")),
                "min": el.get("minOccurs", "1"),
                "max": el.get("maxOccurs", "1"),
                "index": index,
                "in": compositor,
            }
            return
        self.items[f"el:{path}"] = {
            "type": _local(el.get("type")) or "anonymous",
            "min": el.get("minOccurs", "1"),
            "max": el.get("maxOccurs", "1"),
            "index": index,
            "in": compositor,
            "nillable": el.get("nillable") == "true",
            "fixed": el.get("fixed"),
            "facets": self.facets(el),
        }
        if depth > 6:
            return
        ct = el.find(Q + "complexType")
        if ct is None and el.get("type"):
            ct = self.g["complexType"].get(_local(el.get("type")))
            st = self.g["simpleType"].get(_local(el.get("type")))
            if st is not None:
                holder = etree.Element("h")
                holder.append(etree.fromstring(etree.tostring(st)))
                self.items[f"el:{path}"]["facets"] = self.facets(holder)
        if ct is not None:
            self.complex(ct, path, depth)

    def complex(self, ct, path: str, depth: int):
        self.items[f"ct:{path}"] = {
            "mixed": ct.get("mixed") == "true",
            "abstract": ct.get("abstract") == "true",
        }
        holders = [ct]
        for c in ct:
            if c.tag in (Q + "complexContent", Q + "simpleContent") and len(c):
                holders.append(c[0])
                self.items[f"ct:{path}"]["base"] = _local(c[0].get("base"))
        for h in holders:
            for a in h.findall(Q + "attribute"):
                name = a.get("name") or _local(a.get("ref"))
                self.items[f"at:{path}/@{name}"] = {
                    "use": a.get("use", "optional"),
                    "type": _local(a.get("type")),
                    "fixed": a.get("fixed"),
                    "facets": self.facets(a),
                }
            for w in h.findall(Q + "anyAttribute"):
                self.items[f"anyattr:{path}"] = {
                    "ns": w.get("namespace", "##any"),
                    "pc": w.get("processContents", "strict"),
                }
            for p in h:
                if p.tag in (Q + "sequence", Q + "choice", Q + "all", Q + "group"):
                    self.particle(p, path, depth)

    def particle(self, p, path: str, depth: int):
        if p.tag == Q + "group":
            group = self.g["group"].get(_local(p.get("ref")))
            self.items[f"groupref:{path}:{_local(p.get('ref'))}"] = {}
            for c in group if group is not None else []:
                if c.tag in (Q + "sequence", Q + "choice", Q + "all"):
                    self.particle(c, path, depth)
            return
        kind = etree.QName(p).localname
        self.items.setdefault(f"comp:{path}", {"kinds": []})["kinds"].append(kind)
        for i, c in enumerate(p):
            if c.tag == Q + "element":
                self.element(
                    c, f"{path}/{c.get('name') or _local(c.get('ref'))}", depth + 1, i, kind
                )
            elif c.tag == Q + "any":
                self.items[f"any:{path}:{i}"] = {
                    "ns": c.get("namespace", "##any"),
                    "pc": c.get("processContents", "strict"),
                }
            elif c.tag in (Q + "sequence", Q + "choice", Q + "all", Q + "group"):
                self.particle(c, path, depth)


def _occurs(v: str) -> float:
    return float("inf") if v == "unbounded" else int(v)


def _facet_breaks(fa: dict, fb: dict) -> bool:
    if fa.get("base") != fb.get("base") or fa.get("variety") != fb.get("variety"):
        return True
    for key in ("maxLength", "maxInclusive", "maxExclusive", "totalDigits", "fractionDigits"):
        if key in fb and (key not in fa or float(fb[key]) < float(fa[key])):
            return True
    for key in ("minLength", "minInclusive", "minExclusive"):
        if key in fb and (key not in fa or float(fb[key]) > float(fa[key])):
            return True
    if "length" in fb and fb.get("length") != fa.get("length"):
        return True
    if "pattern" in fb and fb["pattern"] != fa.get("pattern"):
        return True
    return (
        "enumeration" in fb
        and not fa.get("enumeration", set()) <= fb["enumeration"]
        or ("enumeration" in fb and "enumeration" not in fa)
    )


def heuristic_verdict(files_a: dict, files_b: dict) -> tuple[str, list[str]]:
    """("incompatible" | "compatible", the rules that fired)."""
    a, b = _Flat(files_a), _Flat(files_b)
    fired: list[str] = []
    if a.tns != b.tns:
        fired.append("NAMESPACE_CHANGED")
    for key, old in a.items.items():
        new = b.items.get(key)
        kind = key.split(":")[0]
        if new is None:
            if kind in ("el", "root", "member", "at", "any", "anyattr"):
                fired.append(f"{kind.upper()}_REMOVED {key}")
            continue
        if kind == "el":
            if "ref" in old or "ref" in new:
                if old.get("ref") != new.get("ref"):
                    fired.append(f"REF_CHANGED {key}")
            elif old["type"] != new["type"]:
                fired.append(f"TYPE_CHANGED {key}")
            if _occurs(new["min"]) > _occurs(old["min"]):
                fired.append(f"MIN_OCCURS_RAISED {key}")
            if _occurs(new["max"]) < _occurs(old["max"]):
                fired.append(f"MAX_OCCURS_LOWERED {key}")
            if new["index"] != old["index"] or new["in"] != old["in"]:
                fired.append(f"ORDER_CHANGED {key}")
            if old.get("nillable") and not new.get("nillable"):
                fired.append(f"NILLABLE_REMOVED {key}")
            if new.get("fixed") is not None and new.get("fixed") != old.get("fixed"):
                fired.append(f"FIXED_CHANGED {key}")
            if "facets" in old and _facet_breaks(old["facets"], new.get("facets", {})):
                fired.append(f"FACET_TIGHTENED {key}")
        elif kind == "at":
            if new["use"] == "required" and old["use"] != "required":
                fired.append(f"ATTRIBUTE_MADE_REQUIRED {key}")
            if old["type"] != new["type"] or _facet_breaks(old["facets"], new["facets"]):
                fired.append(f"ATTRIBUTE_TYPE_CHANGED {key}")
            if new.get("fixed") is not None and new.get("fixed") != old.get("fixed"):
                fired.append(f"FIXED_CHANGED {key}")
        elif kind in ("any", "anyattr"):
            if old["ns"] != new["ns"] and new["ns"] != "##any":
                fired.append(f"WILDCARD_NARROWED {key}")
            order = ["skip", "lax", "strict"]
            if order.index(new["pc"]) > order.index(old["pc"]):
                fired.append(f"WILDCARD_NARROWED {key}")
        elif kind == "ct":
            if old["mixed"] and not new["mixed"]:
                fired.append(f"MIXED_REMOVED {key}")
            if new["abstract"] and not old["abstract"]:
                fired.append(f"ABSTRACT_ADDED {key}")
            if old.get("base") != new.get("base"):
                fired.append(f"BASE_CHANGED {key}")
        elif kind == "root" and new["abstract"] and not old["abstract"]:
            fired.append(f"ABSTRACT_ADDED {key}")
        elif kind == "comp" and old["kinds"] != new["kinds"]:
            fired.append(f"COMPOSITOR_CHANGED {key}")
    for key, new in b.items.items():
        if key in a.items:
            continue
        kind = key.split(":")[0]
        parent = key.split(":", 1)[1].rsplit("/", 1)[0]
        if (
            kind == "el"
            and _occurs(new.get("min", "1")) >= 1
            and (f"el:{parent}" in a.items or parent.count("/") == 1)
        ):
            fired.append(f"REQUIRED_ELEMENT_ADDED {key}")
        if kind == "at" and new["use"] == "required":
            fired.append(f"ATTRIBUTE_ADDED_REQUIRED {key}")
    return ("incompatible" if fired else "compatible"), fired

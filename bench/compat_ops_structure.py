"""Mutation operators on declarations: abstract, substitution groups, wildcards, root elements,
namespaces, and the language-preserving refactorings (which return a changed A as well)."""

from __future__ import annotations

import copy

from lxml import etree

from bench.compat_ops import XS, Q, _all, _occ, _particles, _pick, _tns_ref, _x, operator


def _globals(files, tag):
    return [(n, el) for n, root in files.items() for el in root.findall(Q + tag)]


def _referenced(files, local: str) -> bool:
    return any(
        el.get("ref", "").split(":")[-1] == local
        or el.get("substitutionGroup", "").split(":")[-1] == local
        for _, el in _all(files, ".//xs:element")
    )


@operator("ABSTRACT_ADDED")
def abstract_added(files, rng):
    sites = [el for _, el in _globals(files, "element") if el.get("abstract") != "true"]
    sites += [ct for _, ct in _globals(files, "complexType") if ct.get("abstract") != "true"]
    el = _pick(rng, sites)
    if el is None:
        return None
    el.set("abstract", "true")
    return files


@operator("SUBSTITUTION_MEMBER_REMOVED")
def substitution_member_removed(files, rng):
    el = _pick(rng, [el for _, el in _globals(files, "element") if el.get("substitutionGroup")])
    if el is None:
        return None
    el.getparent().remove(el)
    return files


@operator("SUBSTITUTION_MEMBER_ADDED")
def substitution_member_added(files, rng):
    heads = [
        (n, el)
        for n, el in _globals(files, "element")
        if el.get("type") and not el.get("substitutionGroup")
    ]
    site = _pick(rng, [h for h in heads if _referenced(files, h[1].get("name"))] or heads)
    if site is None:
        return None
    name, head = site
    root = files[name]
    member = _x(
        "element",
        name=head.get("name") + "Variant",
        type=head.get("type"),
        substitutionGroup=_tns_ref(root, head.get("name")),
    )
    root.append(member)
    return files


def _wildcards(files):
    return [w for _, w in _all(files, ".//xs:any")] + [
        w for _, w in _all(files, ".//xs:anyAttribute")
    ]


@operator("WILDCARD_NARROWED")
def wildcard_narrowed(files, rng):
    w = _pick(rng, _wildcards(files))
    if w is None:
        return None
    ns = w.get("namespace", "##any")
    if ns == "##any":
        w.set("namespace", "##other")
    elif ns == "##other":
        w.set("namespace", "urn:example:only")
    elif w.get("processContents", "strict") != "strict":
        w.set("processContents", "strict")
    else:
        return None
    return files


@operator("WILDCARD_WIDENED")
def wildcard_widened(files, rng):
    w = _pick(rng, _wildcards(files))
    if w is None:
        return None
    if w.get("namespace", "##any") != "##any":
        w.set("namespace", "##any")
    elif w.get("processContents", "strict") != "skip":
        w.set("processContents", "skip")
    else:
        return None
    return files


@operator("WILDCARD_ADDED")
def wildcard_added(files, rng):
    seq = _pick(
        rng, [s for _, s in _all(files, ".//xs:sequence") if s.getparent().tag == Q + "complexType"]
    )
    if seq is None:
        return None
    seq.append(
        _x("any", namespace="##other", processContents="lax", minOccurs="0", maxOccurs="unbounded")
    )
    return files


@operator("ROOT_ELEMENT_REMOVED")
def root_removed(files, rng):
    roots = [
        el
        for _, el in _globals(files, "element")
        if not _referenced(files, el.get("name")) and not el.get("substitutionGroup")
    ]
    el = _pick(rng, roots if len(roots) > 1 else [])
    if el is None:
        return None
    el.getparent().remove(el)
    return files


@operator("ROOT_ELEMENT_ADDED")
def root_added(files, rng):
    root = files["main.xsd"]
    prefix = next((p for p, u in root.nsmap.items() if u == XS), "xs")
    root.append(_x("element", name=f"extraRoot{rng.randrange(10)}", type=f"{prefix}:string"))
    return files


@operator("NAMESPACE_CHANGED")
def namespace_changed(files, rng):
    root = files["main.xsd"]
    tns = root.get("targetNamespace")
    new = (tns + ":v2") if tns else "urn:example:v2"
    if tns is None and any(r.get("targetNamespace") for r in files.values()):
        return None
    text = etree.tostring(root).decode()
    if tns:
        text = text.replace(f'"{tns}"', f'"{new}"')
    elif 'xmlns=""' in text:
        text = text.replace('xmlns=""', f'targetNamespace="{new}" xmlns="{new}"', 1)
    else:
        text = text.replace("<xs:schema ", f'<xs:schema targetNamespace="{new}" xmlns="{new}" ', 1)
    if len(files) > 1:
        return None
    files["main.xsd"] = etree.fromstring(text)
    return files


# -- refactorings: both sides change, the language stays the same ----------------------------------
def _split_site(files, rng):
    sites = [
        p
        for p in _particles(files)
        if p.getparent().tag == Q + "sequence"
        and _occ(p) == (1, 1)
        and p.get("name")
        and p.get("type")
    ]
    # (a twin with its own anonymous type would break Element Declarations Consistent)
    return _pick(rng, sites)


@operator("REFACTOR_OCCURS_SPLIT")
def occurs_split(files, rng):
    """A: `a{1,2}`, B: `a, a?`."""
    el = _split_site(files, rng)
    if el is None:
        return None
    a = copy.deepcopy(files)
    name = next(n for n, r in files.items() if r is el.getroottree().getroot())
    index = list(files[name].iter()).index(el)
    list(a[name].iter())[index].set("maxOccurs", "2")
    twin = copy.deepcopy(el)
    twin.set("minOccurs", "0")
    el.addnext(twin)
    return a, files


@operator("REFACTOR_OCCURS_MERGED")
def occurs_merged(files, rng):
    pair = occurs_split(files, rng)
    return None if pair is None else (pair[1], pair[0])


@operator("REFACTOR_GROUP_EXTRACTED")
def group_extracted(files, rng):
    seqs = [
        (n, s)
        for n, s in _all(files, ".//xs:sequence")
        if s.getparent().tag == Q + "complexType" and len(s)
    ]
    site = _pick(rng, seqs)
    if site is None:
        return None
    name, seq = site
    root = files[name]
    gname = f"Extracted{rng.randrange(1000)}"
    group = _x("group", name=gname)
    group.append(copy.deepcopy(seq))
    root.append(group)
    for child in list(seq):
        seq.remove(child)
    seq.append(_x("group", ref=_tns_ref(root, gname)))
    return files


@operator("REFACTOR_GROUP_INLINED")
def group_inlined(files, rng):
    pair = group_extracted(copy.deepcopy(files), rng)
    return None if pair is None else (pair, files)


@operator("REFACTOR_TYPE_RENAMED")
def type_renamed(files, rng):
    site = _pick(rng, _globals(files, "complexType") + _globals(files, "simpleType"))
    if site is None:
        return None
    name, t = site
    old = t.get("name")
    t.set("name", old + "Renamed")
    root = files[name]
    old_ref, new_ref = _tns_ref(root, old), _tns_ref(root, old + "Renamed")
    for r in files.values():
        for el in r.iter(
            Q + "element",
            Q + "attribute",
            Q + "extension",
            Q + "restriction",
            Q + "list",
            Q + "union",
        ):
            for attr in ("type", "base", "itemType"):
                if el.get(attr) == old_ref:
                    el.set(attr, new_ref)
            if el.get("memberTypes"):
                el.set(
                    "memberTypes",
                    " ".join(new_ref if m == old_ref else m for m in el.get("memberTypes").split()),
                )
    return files


@operator("REFACTOR_ANONYMOUS_TO_NAMED")
def anonymous_to_named(files, rng):
    sites = [
        (n, el)
        for n, el in _all(files, ".//xs:element")
        if el.find(Q + "complexType") is not None or el.find(Q + "simpleType") is not None
    ]
    site = _pick(rng, sites)
    if site is None:
        return None
    name, el = site
    root = files[name]
    inline = el.find(Q + "complexType")
    if inline is None:
        inline = el.find(Q + "simpleType")
    tname = f"{el.get('name')}Type{rng.randrange(1000)}"
    el.remove(inline)
    inline.set("name", tname)
    root.append(inline)
    el.set("type", _tns_ref(root, tname))
    return files


@operator("REFACTOR_NAMED_TO_ANONYMOUS")
def named_to_anonymous(files, rng):
    pair = anonymous_to_named(copy.deepcopy(files), rng)
    return None if pair is None else (pair, files)


@operator("REFACTOR_TYPE_MOVED_FILE")
def type_moved_file(files, rng):
    site = _pick(
        rng,
        [
            s
            for s in _globals(files, "complexType") + _globals(files, "simpleType")
            if s[0] == "main.xsd"
        ],
    )
    if site is None:
        return None
    _, t = site
    root = files["main.xsd"]
    other = etree.Element(root.tag, nsmap=root.nsmap)
    for attr in ("targetNamespace", "elementFormDefault", "attributeFormDefault"):
        if root.get(attr) is not None:
            other.set(attr, root.get(attr))
    root.remove(t)
    other.append(t)
    files["moved.xsd"] = other
    root.insert(0, _x("include", schemaLocation="moved.xsd"))
    return files

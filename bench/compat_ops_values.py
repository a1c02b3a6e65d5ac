"""Mutation operators on simple types and attributes: facets tightened and loosened,
enumerations, patterns, attributes, defaults, fixed values, nillable."""

from __future__ import annotations

from bench.compat_ops import (
    NUMBERS,
    STRINGS,
    Q,
    _all,
    _particles,
    _pick,
    _restrictions,
    _string_elements,
    _to_restriction,
    _x,
    operator,
)


def _facet_sites(files, names, kinds):
    return [f for r in _restrictions(files, kinds) for f in r if f.tag in {Q + n for n in names}]


def _set_number(f, value):
    f.set("value", str(value))


def _length_site(files, rng, tighten: bool):
    sites = _facet_sites(files, ("maxLength", "minLength", "length"), None)
    if rng.random() < 0.3 or not sites:
        el = _pick(rng, _string_elements(files))
        if el is None:
            return None
        if not tighten:
            return None if not sites else _length_site(files, rng, tighten)
        r = _to_restriction(el, "string")
        r.append(_x("maxLength", value=str(rng.choice([1, 3, 8]))))
        return files
    f = rng.choice(sites)
    v = int(f.get("value"))
    kind = f.tag[len(Q) :]
    if kind == "maxLength":
        _set_number(f, max(0, v // 2) if tighten else v * 2 + 1)
    elif kind == "minLength":
        if not tighten and v == 0:
            return None
        _set_number(f, v + 2 if tighten else v - 1)
    else:  # length
        _set_number(f, v + 1 if tighten else v)
        if not tighten:
            f.tag = Q + "maxLength"
    return files


@operator("FACET_TIGHTENED_LENGTH")
def length_tightened(files, rng):
    return _length_site(files, rng, True)


@operator("FACET_LOOSENED_LENGTH")
def length_loosened(files, rng):
    return _length_site(files, rng, False)


def _range_site(files, rng, tighten: bool):
    sites = _facet_sites(
        files, ("minInclusive", "maxInclusive", "minExclusive", "maxExclusive"), NUMBERS
    )
    if not sites:
        return None
    f = rng.choice(sites)
    v = float(f.get("value"))
    upper = "max" in f.tag
    step = max(1.0, abs(v) * 0.1) if v == int(v) else 0.5
    nv = v - step if upper == tighten else v + step
    if nv == int(nv):
        nv = int(nv)
    _set_number(f, nv)
    return files


@operator("FACET_TIGHTENED_RANGE")
def range_tightened(files, rng):
    return _range_site(files, rng, True)


@operator("FACET_LOOSENED_RANGE")
def range_loosened(files, rng):
    return _range_site(files, rng, False)


def _digits_site(files, rng, tighten: bool):
    sites = _facet_sites(files, ("totalDigits", "fractionDigits"), NUMBERS)
    if not sites:
        return None
    f = rng.choice(sites)
    v = int(f.get("value"))
    if tighten and v <= 1 and f.tag.endswith("totalDigits"):
        return None
    if tighten and v == 0:
        return None
    _set_number(f, v - 1 if tighten else v + 1)
    total = f.getparent().find(Q + "totalDigits")
    frac = f.getparent().find(Q + "fractionDigits")
    if total is not None and frac is not None and int(frac.get("value")) > int(total.get("value")):
        return None
    return files


@operator("FACET_TIGHTENED_DIGITS")
def digits_tightened(files, rng):
    return _digits_site(files, rng, True)


@operator("FACET_LOOSENED_DIGITS")
def digits_loosened(files, rng):
    return _digits_site(files, rng, False)


@operator("PATTERN_ADDED")
def pattern_added(files, rng):
    restrictions = [r for r in _restrictions(files, STRINGS) if r.find(Q + "enumeration") is None]
    if restrictions and rng.random() < 0.6:
        r = rng.choice(restrictions)
    else:
        el = _pick(rng, _string_elements(files))
        if el is None:
            return None
        r = _to_restriction(el, "string")
    r.append(_x("pattern", value=rng.choice(["[a-z]*", "[A-Za-z0-9 ]{0,20}", "\\d+", "[^<&]{1,}"])))
    return files


@operator("PATTERN_REMOVED")
def pattern_removed(files, rng):
    f = _pick(rng, [p for _, p in _all(files, ".//xs:pattern")])
    if f is None:
        return None
    f.getparent().remove(f)
    return files


@operator("ENUM_VALUE_REMOVED")
def enum_removed(files, rng):
    r = _pick(rng, [r for r in _restrictions(files) if len(r.findall(Q + "enumeration")) > 1])
    if r is None:
        return None
    r.remove(rng.choice(r.findall(Q + "enumeration")))
    return files


@operator("ENUM_VALUE_ADDED")
def enum_added(files, rng):
    r = _pick(
        rng, [r for r in _restrictions(files, STRINGS) if r.find(Q + "enumeration") is not None]
    )
    if r is None:
        return None
    r.append(_x("enumeration", value=f"extra{rng.randrange(10)}"))
    return files


# -- attributes ---------------------------------------------------------------------------------
def _attribute_holders(files):
    out = []
    for _, ct in _all(files, ".//xs:complexType"):
        if ct.find(Q + "simpleContent") is not None:
            continue
        holder = ct.find(Q + "complexContent/" + Q + "extension")
        out.append(holder if holder is not None else ct)
    return out


def _attribute_added(files, rng, required: bool):
    holder = _pick(rng, _attribute_holders(files))
    if holder is None:
        return None
    prefix = next(
        (p for p, u in holder.nsmap.items() if u == "http://www.w3.org/2001/XMLSchema"), "xs"
    )
    att = _x("attribute", name=f"extra{rng.randrange(100)}", type=f"{prefix}:string")
    if required:
        att.set("use", "required")
    anyattr = holder.find(Q + "anyAttribute")
    if anyattr is not None:
        anyattr.addprevious(att)
    else:
        holder.append(att)
    return files


@operator("ATTRIBUTE_ADDED_REQUIRED")
def attribute_added_required(files, rng):
    return _attribute_added(files, rng, True)


@operator("ATTRIBUTE_ADDED_OPTIONAL")
def attribute_added_optional(files, rng):
    return _attribute_added(files, rng, False)


def _local_attributes(files):
    return [
        a
        for _, a in _all(files, ".//xs:attribute")
        if a.get("name") and a.getparent().tag != Q + "schema"
    ]


@operator("ATTRIBUTE_MADE_OPTIONAL")
def attribute_made_optional(files, rng):
    a = _pick(rng, [a for a in _local_attributes(files) if a.get("use") == "required"])
    if a is None:
        return None
    del a.attrib["use"]
    return files


@operator("ATTRIBUTE_MADE_REQUIRED")
def attribute_made_required(files, rng):
    a = _pick(
        rng,
        [
            a
            for a in _local_attributes(files)
            if a.get("use") != "required" and a.get("default") is None
        ],
    )
    if a is None:
        return None
    if a.get("fixed") is not None:
        return None
    a.set("use", "required")
    return files


@operator("ATTRIBUTE_REMOVED")
def attribute_removed(files, rng):
    a = _pick(rng, _local_attributes(files))
    if a is None:
        return None
    a.getparent().remove(a)
    return files


@operator("DEFAULT_CHANGED")
def default_changed(files, rng):
    a = _pick(rng, [a for _, a in _all(files, ".//xs:attribute") if a.get("default") is not None])
    if a is None:
        return None
    options = [e.get("value") for e in a.iterfind(".//" + Q + "enumeration")] or ["other", "2"]
    choices = [v for v in options if v != a.get("default")]
    if not choices:
        return None
    a.set("default", choices[0])
    return files


@operator("FIXED_ADDED")
def fixed_added(files, rng):
    sites = [e for e in _string_elements(files)] + [
        a
        for a in _local_attributes(files)
        if a.get("type", "").endswith("string") and a.get("default") is None
    ]
    el = _pick(rng, sites)
    if el is None:
        return None
    el.set("fixed", "constant")
    return files


@operator("NILLABLE_REMOVED")
def nillable_removed(files, rng):
    el = _pick(rng, [e for _, e in _all(files, ".//xs:element") if e.get("nillable") == "true"])
    if el is None:
        return None
    del el.attrib["nillable"]
    return files


@operator("NILLABLE_ADDED")
def nillable_added(files, rng):
    el = _pick(rng, [e for e in _particles(files) if e.get("name") and e.get("nillable") != "true"])
    if el is None:
        return None
    el.set("nillable", "true")
    return files

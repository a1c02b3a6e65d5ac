"""Witness documents: the smallest document of A that B rejects, built from a counterexample
(decide.Fail) and completed minimally by the generator, then checked by lxml: valid under
A, invalid under B (B sees the document with namespaces renamed by the mapping)."""

from __future__ import annotations

import re
from pathlib import Path

from lxml import etree

from xmlcompat.automata import TooLarge
from xmlcompat.generate import GenerationError, Generator, automaton
from xmlcompat.model import ANY_ELEMENT, OTHER_NS, ComplexType

XSI = "http://www.w3.org/2001/XMLSchema-instance"
RANDOM_TRIES = 12       # random completions tried when the minimal witness is not valid
#: Tests set this: a counterexample whose witness does not validate is then raised as the
#: bug it is, instead of turning the verdict into "unknown".
STRICT = False


class WitnessError(Exception):
    """The witness did not validate as it must (valid under A, invalid under B)."""


def build(lang_a, fail) -> list:
    """Candidate witness trees for `fail` (usually one; an `any-content` failure gives a few
    variants, the first one B rejects is used)."""
    out = []
    for variant in range(3 if fail.leaf().kind == "any-content" else 1):
        gen = Generator(lang_a, minimal=True)
        root = _element(gen, fail, None, variant)
        gen.finish(root)
        out.append(etree.ElementTree(root))
    return out


def build_random(lang_a, fail, seed: int):
    """A witness whose completions (what follows the counterexample's path) are random
    rather than minimal: the fallback when the minimal one is not valid under A (an IDREF
    with no ID in the smallest completion, say)."""
    gen = Generator(lang_a, seed=seed, minimal=False)
    root = _element(gen, fail, None, 0)
    gen.finish(root)
    return etree.ElementTree(root)


def _element(gen: Generator, f, parent, variant: int):
    decl, qname = f.decl, f.qname
    elem = etree.Element(qname) if parent is None else etree.SubElement(parent, qname)
    if f.kind == "any-content" and (decl is ANY_ELEMENT or decl is None or f.type_a is None):
        _any_content(elem, variant)
        return elem
    t = f.type_a if f.type_a is not None else gen.pick_type(decl)
    if f.xsi is not None:
        gen.set_xsi_type(elem, decl, t, f.xsi)
    if f.nil:
        for name, attr in (t.attributes.items() if isinstance(t, ComplexType) else ()):
            if attr.required:
                elem.set(name, gen.value(attr.type, attr.fixed))
        elem.set(f"{{{XSI}}}nil", "true")
        return elem
    if f.kind in ("root", "abstract", "xsi-type"):
        gen.fill(elem, decl, t, 0)
        return elem
    if f.kind in ("missing", "unexpected", "child", "text") and isinstance(t, ComplexType):
        _attributes(gen, elem, t, f)
        word = list(f.word)
        if f.kind == "text" and not word and t.content is not None:
            word = gen.word(t, 0)
        rest = []
        if f.kind in ("unexpected", "child") and t.content is not None:
            auto = automaton(gen.model, t)
            state = auto.start
            for _, q in word:
                state = auto.step(state, q)[0]
            rest = gen.complete(t, state, 1)
        for i, (leaf, q) in enumerate(word + rest):
            if f.kind == "child" and i == len(word) - 1:
                _element(gen, f.child, elem, variant)
                continue
            decl_c = leaf.element if leaf.element is not None else gen._wild_decl(leaf, q)
            gen.element(decl_c, q, 1, parent=elem)
        if f.kind == "text":
            elem.text = f.value or "x"
        elif t.simple is not None and f.kind != "unexpected":
            elem.text = gen.value(t.simple, decl.fixed)
        return elem
    # attribute and value failures: a minimal element, then the failing detail
    if isinstance(t, ComplexType):
        if t.simple is not None or t.content is not None or t.mixed:
            gen.fill(elem, decl, t, 0)
        else:
            _attributes(gen, elem, t, f)
        _attributes(gen, elem, t, f)
    if f.kind == "value" and isinstance(t, ComplexType) and t.simple is None and t.content is not None:
        elem.text = f.value            # text where the new version wants elements
    elif f.kind == "value":
        elem.text = f.value
    elif not isinstance(t, ComplexType):
        elem.text = gen.value(t, decl.fixed)
    if f.kind == "unexpected" and f.word:
        for leaf, q in f.word:
            gen.element(leaf.element, q, 1, parent=elem)
    return elem


def _attributes(gen, elem, t: ComplexType, f) -> None:
    for name, attr in t.attributes.items():
        if attr.required and name != f.omit_attr and elem.get(name) is None:
            elem.set(name, gen.value(attr.type, attr.fixed))
    if f.omit_attr is not None and f.omit_attr in elem.attrib:
        del elem.attrib[f.omit_attr]
    if f.attr is not None:
        elem.set(f.attr[0], f.attr[1])


def _any_content(elem, variant: int) -> None:
    if variant == 0:
        etree.SubElement(elem, f"{{{OTHER_NS}}}xmlcompat-unexpected")
    elif variant == 1:
        elem.text = "x"
    else:
        elem.set(f"{{{OTHER_NS}}}xmlcompat-unexpected", "x")


def map_namespaces(tree, ns_map: dict[str, str]):
    """The document as the other version sees it: namespace names renamed by `ns_map`."""
    if not ns_map:
        return tree
    text = etree.tostring(tree, encoding="unicode")
    for old, new in ns_map.items():
        if old and new:
            text = re.sub(r'(xmlns(?::[\w.-]+)?=")' + re.escape(old) + '"',
                          lambda m, new=new: m.group(1) + new + '"', text)
    return etree.ElementTree(etree.fromstring(text))


def validate(lang_a, lang_b, tree, ns_map) -> tuple[str | None, str | None]:
    """(error under A, error under B) — a witness has (None, message)."""
    return lang_a.validate(tree), lang_b.validate(map_namespaces(tree, ns_map))


def confirm(lang_a, lang_b, fail, ns_map) -> tuple:
    """The first candidate that is valid under A and invalid under B: (tree, B's message).
    Raises WitnessError when no candidate validates that way (a bug, or an inexact step)."""
    last = "no candidate"
    try:
        trees = build(lang_a, fail)
    except (GenerationError, TooLarge) as exc:
        trees, last = [], f"witness could not be built: {exc}"
    for tree in trees:
        err_a, err_b = validate(lang_a, lang_b, tree, ns_map)
        if err_a is None and err_b is not None:
            return tree, err_b
        last = f"invalid under the old version: {err_a}" if err_a else "valid under the new version"
    for seed in range(1, RANDOM_TRIES + 1):
        try:
            tree = build_random(lang_a, fail, seed)
        except (GenerationError, TooLarge) as exc:
            last = f"witness could not be built: {exc}"
            continue
        err_a, err_b = validate(lang_a, lang_b, tree, ns_map)
        if err_a is None and err_b is not None:
            return tree, err_b
    raise WitnessError(f"witness for {fail.path()} not confirmed: {last}")


def write(tree, directory: Path, name: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    tree.write(str(path), xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return path

"""Witness search for a new Schematron rule: a document valid under A's XSD and rules that
breaks the rule. Candidates are the grammar generator's documents for A, then those same
documents edited towards the rule: the rule's literals (and their neighbours) written into the
elements and attributes it names, those elements removed or doubled. Every candidate is judged
by lxml alone (XMLSchema for A, isoschematron for A's rules and for the one new rule), and the
file written is validated again before it is returned.
"""

from __future__ import annotations

import copy
import hashlib
from pathlib import Path

from lxml import etree

from .rule_facts import _language_paths

SVRL = "http://purl.oclc.org/dsdl/svrl"
DOCUMENTS = 24  # generated documents of A per rule (two seeds)
BUDGET = 400  # candidate documents judged per rule


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def xsd_validator(lang) -> etree.XMLSchema | None:
    """lxml's validator for a language's XSD (the loader's own, when it keeps one)."""
    for attr in ("xmlschema", "lxml_schema", "validator"):
        value = getattr(lang, attr, None)
        if isinstance(value, etree.XMLSchema):
            return value
    cached = getattr(lang, "_rule_xsd", None)
    if cached is not None:
        return cached
    paths = [Path(lang)] if isinstance(lang, (str, Path)) else _language_paths(lang)
    if not paths:
        return None
    schema = etree.XMLSchema(etree.parse(str(paths[0]), _parser()))
    if not isinstance(lang, (str, Path)):
        try:
            lang._rule_xsd = schema
        except AttributeError:
            pass
    return schema


def _as_tree(doc) -> etree._ElementTree | None:
    if isinstance(doc, etree._ElementTree):
        return copy.deepcopy(doc)
    if isinstance(doc, etree._Element):
        return etree.ElementTree(copy.deepcopy(doc))
    if isinstance(doc, Path):
        doc = doc.read_bytes()
    if isinstance(doc, str):
        doc = doc.encode()
    if isinstance(doc, bytes):
        return etree.ElementTree(etree.fromstring(doc, _parser()))
    return None


def _literals(term) -> list[str]:
    found: set = set()

    def walk(x):
        if isinstance(x, tuple):
            if len(x) == 2 and x[0] in ("num", "str") and not isinstance(x[1], tuple):
                found.add(x)
            for i in x:
                walk(i)

    walk(term)
    values: list[str] = ["", "0", "-1", "a"]
    for kind, v in sorted(found, key=repr):
        if kind == "num":
            for d in (0, -1, 1, -0.5, 0.5):
                n = v + d
                values.append(str(int(n)) if n == int(n) else str(n))
        else:
            values += [v, v + "x"]
    return list(dict.fromkeys(values))


def _edits(tree, names, values):
    """Documents one edit away from `tree`, towards breaking a rule that uses `names`."""
    elements = {n for k, n in names if k == "element"}
    attributes = {n for k, n in names if k == "attribute"}
    root = tree.getroot()
    nodes = [el for el in root.iter() if isinstance(el.tag, str)]
    for i, el in enumerate(nodes):
        for attr in list(el.attrib):
            if attr in attributes:
                for v in values:
                    yield _edited(tree, i, lambda e, a=attr, v=v: e.set(a, v))
        if el.tag in elements:
            if len(el) == 0:
                for v in values:
                    yield _edited(tree, i, lambda e, v=v: setattr(e, "text", v))
            if el.getparent() is not None:
                yield _edited(tree, i, lambda e: e.getparent().remove(e))
                yield _edited(tree, i, lambda e: e.addnext(copy.deepcopy(e)))
                yield _edited(
                    tree,
                    i,
                    lambda e: [p.getparent().remove(p) for p in e.getparent() if p.tag == e.tag],
                )


def _edited(tree, index, change):
    clone = copy.deepcopy(tree)
    el = [e for e in clone.getroot().iter() if isinstance(e.tag, str)][index]
    change(el)
    return clone


def _failure(report) -> str:
    for el in report.getroot().iter(f"{{{SVRL}}}failed-assert", f"{{{SVRL}}}successful-report"):
        text = " ".join("".join(el.itertext()).split())
        kind = "assert" if el.tag.endswith("failed-assert") else "report"
        return f"{kind} {el.get('test')!r} fails at {el.get('location')}: {text}"
    return "rule failed"


def search_witness(c, old_rules, lang_old, generate, witness_dir: Path, single_rule_schema):
    """(path, quoted failure) of a checked witness for constraint `c`, or None."""
    xsd = xsd_validator(lang_old)
    if xsd is None:
        return None
    rule = single_rule_schema(c)
    old_validator = old_rules.validator() if old_rules is not None else None

    def valid_under_a(tree) -> bool:
        return xsd.validate(tree) and (old_validator is None or old_validator.validate(tree))

    bases = []
    for seed in (1, 2):
        try:
            docs = list(generate(lang_old, DOCUMENTS // 2, seed))
        except Exception:  # noqa: BLE001 — the generator's own failures are reported by the grammar check
            docs = []
        for doc in docs:
            tree = _as_tree(doc)
            if tree is not None and valid_under_a(tree):
                bases.append(tree)
    values = _literals(c.term) if c.term is not None else ["", "0", "a"]
    budget = BUDGET

    def candidates():
        yield from bases
        for base in bases:
            yield from _edits(base, c.names, values)

    for cand in candidates():
        budget -= 1
        if budget < 0:
            return None
        if rule.validate(cand) or not valid_under_a(cand):
            continue
        return _write_checked(cand, c, xsd, old_validator, rule, witness_dir)
    return None


def _write_checked(tree, c, xsd, old_validator, rule, witness_dir: Path):
    witness_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha1(f"{c.file}:{c.line}:{c.test}".encode()).hexdigest()[:8]
    path = witness_dir / f"rule-{Path(c.file).stem}-{c.line}-{digest}.xml"
    path.write_bytes(
        etree.tostring(tree, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    )
    again = etree.parse(str(path), _parser())
    if not xsd.validate(again) or (old_validator is not None and not old_validator.validate(again)):
        path.unlink()
        return None
    if rule.validate(again):
        path.unlink()
        return None
    return path, _failure(rule.validation_report)

"""ISO Schematron rule sets and their comparison between language versions (Defs. 3–5).

Reading of Defs. 3–4 implemented (docs/compatibility.md, "Rules"): rule set 𝒝 of version B is
backward compatible with 𝒜 of version A when every rule of 𝒝 holds in every document valid
under A's schema *and* rules: S_A ∧ ⋀𝒜 ⇒ b for each b ∈ 𝒝. So removing or weakening a rule is
compatible, adding or strengthening one is not — unless A's schema and rules already imply it.

Each `sch:assert` (and each `sch:report`, read as "not test") is one constraint, keyed by its
rule context. Old and new constraints are paired per context: identical normal forms first,
then by `id`, then by position. A pair is related by xpath_rules.relation(); whatever that
cannot show compatible is searched for a witness: documents valid under A's XSD and rules
(from the grammar's generator, then edited towards the rule's literals) that break B's rule.
A witness is kept only after lxml re-validates the written file that way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree, isoschematron

from .errors import CompatError
from .rule_facts import SchemaFacts
from .rule_witness import search_witness
from .xpath_rules import (
    TRUE,
    XPathRuleError,
    implies,
    last_step,
    negate,
    parse_context,
    parse_test,
    relation,
    show,
)

SCH = "http://purl.oclc.org/dsdl/schematron"
_S = f"{{{SCH}}}"
MAX_RULES_BYTES = 16 * 1024 * 1024
_QUERY_BINDINGS = {None, "", "xslt", "xslt1", "xpath", "exslt"}


class RulesError(CompatError):
    """A Schematron file that cannot be used; the message is one line naming the file."""


@dataclass(frozen=True)
class Constraint:
    """One sch:assert (or sch:report, negated) in its rule context."""

    file: str
    line: int
    context: str
    test: str
    kind: str  # "assert" | "report"
    id: str | None
    position: int  # order among the constraints of the same context
    context_key: str
    term: tuple | None  # normalised "must hold"; None when the test could not be read
    names: frozenset = frozenset()
    error: str | None = None
    message: str = ""
    source: tuple = field(default=(), compare=False, repr=False)  # (pattern, rule, assert) elements

    @property
    def location(self) -> str:
        where = f"{self.file}:{self.line}, rule context {self.context!r}"
        return where + (
            f", {self.kind} id {self.id!r}" if self.id else f", {self.kind} #{self.position + 1}"
        )


@dataclass
class RuleSet:
    path: Path
    tree: etree._ElementTree
    namespaces: dict[str, str]
    constraints: list[Constraint]
    _validator: object = field(default=None, repr=False)

    def validator(self) -> isoschematron.Schematron:
        """The whole rule set compiled by lxml (asserts and reports both count as failures)."""
        if self._validator is None:
            self._validator = _compile(self.tree.getroot(), self.path)
        return self._validator


@dataclass
class RuleFinding:
    rule: str  # RULE_ADDED, RULE_REMOVED, RULE_STRENGTHENED, RULE_WEAKENED, RULE_EQUIVALENT, …
    location: str
    backward: bool | None  # None: not decided
    witness: Path | None = None
    detail: str = ""
    forward: bool | None = None
    old_location: str | None = None


# -- loading -------------------------------------------------------------------------------
def load_rules(path: Path) -> RuleSet:
    """Reads an ISO Schematron file safely; RulesError with one line naming the file."""
    path = Path(path)
    name = str(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise RulesError(f"{name}: cannot read Schematron file ({exc.strerror})") from None
    if size > MAX_RULES_BYTES:
        raise RulesError(
            f"{name}: Schematron file of {size} bytes is over the {MAX_RULES_BYTES} byte limit"
        )
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        tree = etree.parse(name, parser)
    except etree.XMLSyntaxError as exc:
        raise RulesError(f"{name}: not well-formed XML ({_first_line(exc)})") from None
    dtd = tree.docinfo.internalDTD
    if dtd is not None and list(dtd.iterentities()):
        # entity declarations are how XML bombs and external entities come in: none are used
        raise RulesError(f"{name}: entity declarations are refused (XML bomb or external entity)")
    root = tree.getroot()
    if root.tag != _S + "schema":
        raise RulesError(f"{name}: not an ISO Schematron schema (root element {root.tag})")
    binding = root.get("queryBinding")
    if binding not in _QUERY_BINDINGS:
        raise RulesError(
            f"{name}: queryBinding {binding!r} is not supported (XPath 1.0 / XSLT 1.0 only)"
        )
    for el in root.iter(_S + "include", _S + "extends"):
        if el.tag == _S + "include" or el.get("href"):
            raise RulesError(
                f"{name}:{el.sourceline}: sch:{etree.QName(el).localname} of other files is not supported"
            )
    for pat in root.iter(_S + "pattern"):
        if pat.get("abstract") == "true" or pat.get("is-a"):
            raise RulesError(
                f"{name}:{pat.sourceline}: abstract patterns are not supported (pattern "
                f"{pat.get('id') or pat.get('is-a')!r}); write the instantiated rules instead"
            )
    namespaces = {ns.get("prefix"): ns.get("uri") for ns in root.iter(_S + "ns")}
    rules = RuleSet(path, tree, namespaces, _constraints(root, namespaces, path.name))
    try:
        rules.validator()
    except (etree.SchematronParseError, etree.XSLTParseError, etree.XSLTApplyError) as exc:
        raise RulesError(f"{name}: invalid Schematron ({_first_line(exc)})") from None
    return rules


def _first_line(exc) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _lets(el) -> dict[str, str]:
    return {
        let.get("name"): let.get("value", "") for let in el.findall(_S + "let") if let.get("name")
    }


def _constraints(root, namespaces, file: str) -> list[Constraint]:
    abstract_rules = {r.get("id"): r for r in root.iter(_S + "rule") if r.get("abstract") == "true"}
    schema_lets = _lets(root)
    out: list[Constraint] = []
    positions: dict[str, int] = {}
    for pattern in root.iter(_S + "pattern"):
        pattern_lets = {**schema_lets, **_lets(pattern)}
        # Schematron gives a node to the first rule of a pattern whose context it matches:
        # a later rule applies only where no earlier one does, so its constraints are told
        # apart (context_key) from the same rule's where nothing comes before it.
        earlier: list[str] = []
        for rule in pattern.findall(_S + "rule"):
            if rule.get("abstract") == "true":
                continue
            context = rule.get("context", "")
            shadows = tuple(earlier)
            earlier.append(" ".join(context.split()))
            bodies = [rule]
            for ext in rule.findall(_S + "extends"):
                if ext.get("rule") not in abstract_rules:
                    raise RulesError(
                        f"{file}:{ext.sourceline}: sch:extends names no abstract rule {ext.get('rule')!r}"
                    )
                bodies.append(abstract_rules[ext.get("rule")])
            lets = dict(pattern_lets)
            for body in bodies:
                lets.update(_lets(body))
            try:
                ctx_term, ctx_names = parse_context(context, namespaces)
                key = repr(ctx_term)
            except XPathRuleError:
                ctx_term, ctx_names, key = None, set(), "text:" + " ".join(context.split())
            if shadows:
                key += " unless " + " | ".join(shadows)
            for body in bodies:
                for check in body:
                    if check.tag not in (_S + "assert", _S + "report"):
                        continue
                    kind = etree.QName(check).localname
                    test = check.get("test", "")
                    try:
                        term, names = parse_test(test, namespaces, lets)
                        if kind == "report":  # a report fires when its test holds
                            term = negate(term)
                        error = None
                    except XPathRuleError as exc:
                        term, names, error = None, set(), str(exc)
                    pos = positions.get(key, 0)
                    positions[key] = pos + 1
                    out.append(
                        Constraint(
                            file=file,
                            line=check.sourceline or 0,
                            context=context,
                            test=test,
                            kind=kind,
                            id=check.get("id"),
                            position=pos,
                            context_key=key,
                            term=term,
                            names=frozenset(set(names) | set(ctx_names)),
                            error=error,
                            message=" ".join("".join(check.itertext()).split())[:200],
                            source=(pattern, rule, check, ctx_term),
                        )
                    )
    return out


def _compile(root, path) -> isoschematron.Schematron:
    return isoschematron.Schematron(
        root,
        include=False,
        store_report=True,
        error_finder=isoschematron.Schematron.ASSERTS_AND_REPORTS,
    )


def single_rule_schema(c: Constraint) -> isoschematron.Schematron:
    """A Schematron holding only constraint `c` (with the lets and namespaces it may use)."""
    pattern, rule, check, _ = c.source
    src_root = rule.getroottree().getroot()
    root = etree.Element(_S + "schema", nsmap={"sch": SCH})
    for attr in ("queryBinding",):
        if src_root.get(attr):
            root.set(attr, src_root.get(attr))
    for el in src_root.findall(_S + "ns") + src_root.findall(_S + "let"):
        root.append(_clone(el))
    pat = etree.SubElement(root, _S + "pattern")
    for el in pattern.findall(_S + "let"):
        pat.append(_clone(el))
    for before in pattern.findall(_S + "rule"):  # the rules that take nodes before this one
        if before is rule:
            break
        if before.get("abstract") != "true":
            shell = etree.SubElement(pat, _S + "rule", context=before.get("context", ""))
            etree.SubElement(shell, _S + "assert", test="true()").text = "matched by an earlier rule"
    new_rule = etree.SubElement(pat, _S + "rule", context=rule.get("context", ""))
    for el in rule.findall(_S + "let"):
        new_rule.append(_clone(el))
    body = check.getparent()
    if body is not rule:  # from an abstract rule through sch:extends
        for el in body.findall(_S + "let"):
            new_rule.append(_clone(el))
    new_rule.append(_clone(check))
    return _compile(root, None)


def _clone(el):
    return etree.fromstring(etree.tostring(el))


# -- comparison ----------------------------------------------------------------------------
def compare_rules(
    old: RuleSet | None,
    new: RuleSet | None,
    lang_old,
    lang_new,
    *,
    generate=None,
    witness_dir: Path | None = None,
    ns_map: dict[str, str] | None = None,
) -> list[RuleFinding]:
    """Findings for every rule change from A (old rules, lang_old) to B (new rules, lang_new)."""
    olds = [_mapped(c, ns_map) for c in old.constraints] if old else []
    news = list(new.constraints) if new else []
    facts_old, facts_new = SchemaFacts.of(lang_old), SchemaFacts.of(lang_new)
    findings: list[RuleFinding] = []
    pairs, added, removed = _pair(olds, news)
    ctx = _Search(old, lang_old, generate, witness_dir, facts_old)
    for c in removed:
        findings.append(
            RuleFinding(
                "RULE_REMOVED",
                c.location,
                True,
                detail=f"removed: {c.test}",
                forward=None,
                old_location=c.location,
            )
        )
    for o, n in pairs:
        findings.append(_changed(o, n, olds, ctx))
    for c in added:
        findings.append(_added(c, olds, ctx))
    if facts_new is not None:
        for c, which in [(c, "new") for c in news] + [
            (c, "old") for c in (old.constraints if old else [])
        ]:
            missing = sorted(
                f"{'@' if k == 'attribute' else ''}{n}"
                for k, n in c.names
                if not facts_new.can_occur(k, _map_name(n, ns_map) if which == "old" else n)
            )
            if missing:
                effect = (
                    "no longer applies in the new schema"
                    if which == "old"
                    else "is not well-formed against the new schema"
                )
                findings.append(
                    RuleFinding(
                        "RULE_PATH_UNKNOWN",
                        c.location,
                        True,
                        detail=f"{which} rule {effect} (Def. 5): {', '.join(missing)} occurs nowhere in the new schema",
                    )
                )
    return findings


def _pair(olds, news):
    by_ctx: dict[str, tuple[list, list]] = {}
    for c in olds:
        by_ctx.setdefault(c.context_key, ([], []))[0].append(c)
    for c in news:
        by_ctx.setdefault(c.context_key, ([], []))[1].append(c)
    pairs, added, removed = [], [], []
    for os_, ns in by_ctx.values():
        os_, ns = list(os_), list(ns)
        for match in (
            lambda o, n: o.term is not None and o.term == n.term and o.id == n.id,
            lambda o, n: o.term is not None and o.term == n.term,
            lambda o, n: o.id is not None and o.id == n.id,
        ):
            for o in list(os_):
                n = next((n for n in ns if match(o, n)), None)
                if n is not None:
                    pairs.append((o, n))
                    os_.remove(o)
                    ns.remove(n)
        pairs.extend(zip(os_, ns))  # what is left pairs up by position in the context
        removed.extend(os_[len(ns) :])
        added.extend(ns[len(os_) :])
    return pairs, added, removed


class _Search:
    def __init__(self, old_rules, lang_old, generate, witness_dir, facts_old):
        self.old_rules, self.lang_old, self.generate = old_rules, lang_old, generate
        self.witness_dir, self.facts_old = witness_dir, facts_old

    def facts(self, c: Constraint):
        if self.facts_old is None or not c.source or c.source[3] is None:
            return None
        return self.facts_old.context(last_step(c.source[3]))

    def witness(self, c: Constraint):
        if self.generate is None or self.lang_old is None or self.witness_dir is None:
            return None
        return search_witness(
            c,
            self.old_rules,
            self.lang_old,
            self.generate,
            Path(self.witness_dir),
            single_rule_schema,
        )


def _changed(o: Constraint, n: Constraint, olds, ctx: _Search) -> RuleFinding:
    if o.term is None or n.term is None:
        if " ".join(o.test.split()) == " ".join(n.test.split()) and o.context == n.context:
            return RuleFinding(
                "RULE_EQUIVALENT",
                n.location,
                True,
                detail="same test text",
                forward=True,
                old_location=o.location,
            )
        rel, why = "unknown", f"test not read as XPath 1.0: {o.error or n.error}"
    else:
        rel = relation(o.term, n.term, ctx.facts(n))
        why = f"{show(o.term)} → {show(n.term)}"
    name = {
        "equivalent": "RULE_EQUIVALENT",
        "weaker": "RULE_WEAKENED",
        "stronger": "RULE_STRENGTHENED",
        "unknown": "RULE_UNKNOWN",
    }[rel]
    forward = True if rel in ("equivalent", "stronger") else None
    if rel in ("equivalent", "weaker"):
        return RuleFinding(
            name, n.location, True, detail=why, forward=forward, old_location=o.location
        )
    return _decide(name, n, olds, ctx, why, forward, o.location)


def _added(n: Constraint, olds, ctx: _Search) -> RuleFinding:
    return _decide("RULE_ADDED", n, olds, ctx, f"added: {n.test}", True, None)


def _decide(
    name, n: Constraint, olds, ctx: _Search, why: str, forward, old_location
) -> RuleFinding:
    """Compatible if A's schema and same-context rules imply n; else a witness, else unknown."""
    if n.term is not None:
        same_ctx = [c.term for c in olds if c.context_key == n.context_key and c.term is not None]
        premise = (
            ("and", tuple(same_ctx)) if len(same_ctx) > 1 else (same_ctx[0] if same_ctx else TRUE)
        )
        if implies(premise, n.term, ctx.facts(n)):
            return RuleFinding(
                name,
                n.location,
                True,
                forward=forward,
                old_location=old_location,
                detail=why + "; already implied by A's schema and rules",
            )
    found = ctx.witness(n)
    if found is not None:
        path, message = found
        return RuleFinding(
            name,
            n.location,
            False,
            witness=path,
            forward=forward,
            old_location=old_location,
            detail=f"{why}; witness valid under A breaks it: {message}",
        )
    return RuleFinding(
        name,
        n.location,
        None,
        forward=forward,
        old_location=old_location,
        detail=why + "; not implied by A as far as shown, and no witness found",
    )


def _map_name(name: str, ns_map) -> str:
    if ns_map and name.startswith("{"):
        ns, _, local = name[1:].partition("}")
        if ns in ns_map:
            return f"{{{ns_map[ns]}}}{local}"
    return name


def _mapped(c: Constraint, ns_map) -> Constraint:
    """An old constraint with its namespaces renamed as B names them (--map OLD=NEW)."""
    if not ns_map:
        return c

    def walk(x):
        if isinstance(x, tuple):
            return tuple(walk(i) for i in x)
        return _map_name(x, ns_map) if isinstance(x, str) else x

    term = walk(c.term) if c.term is not None else None
    key = c.context_key
    for old_ns, new_ns in ns_map.items():
        key = key.replace(f"{{{old_ns}}}", f"{{{new_ns}}}")
    return Constraint(
        **{
            **c.__dict__,
            "term": term,
            "context_key": key,
            "names": frozenset((k, _map_name(n, ns_map)) for k, n in c.names),
        }
    )


__all__ = [
    "Constraint",
    "RuleFinding",
    "RuleSet",
    "RulesError",
    "compare_rules",
    "load_rules",
    "single_rule_schema",
]

"""`check` and `check_history`: the verdict per direction, its witness, and the change list.

Backward (the paper's Def. 1): L(A) ⊆ L(B), every old document is still valid. Forward:
L(B) ⊆ L(A), every new document is valid for an old reader. Each is decided separately
(decide.py) and each "incompatible" carries its own witness, validated by lxml.
"""

from __future__ import annotations

import sys
import tempfile
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path

from xmlcompat import witness as witness_module
from xmlcompat.changes import diff
from xmlcompat.decide import Decider
from xmlcompat.errors import CompatError
from xmlcompat.gcpause import paused_gc
from xmlcompat.loader import Language, load_language
from xmlcompat.reconcile import reconcile
from xmlcompat.witness import WitnessError, confirm, write

DIRECTIONS = ("backward", "forward", "both")
DEEP_RECURSION = 200_000
DEEP_STACK = 512 * 1024 * 1024      # virtual: only the pages a deep recursion touches are used
_deep_lock = threading.Lock()
_deep_running = 0
_saved_limit = 0


@dataclass
class DirectionResult:
    verdict: str                        # compatible | incompatible | unknown
    witness: Path | None = None
    witness_error: str | None = None    # lxml's message rejecting the witness
    reasons: list = field(default_factory=list)
    path: str | None = None             # element path the witness exercises
    rule: str | None = None             # the change rule the witness exercises

    def to_dict(self) -> dict:
        data = asdict(self)
        data["witness"] = str(self.witness) if self.witness else None
        return data


@dataclass
class Report:
    old: str
    new: str
    ns_map: dict
    backward: DirectionResult | None
    forward: DirectionResult | None
    changes: list
    rule_findings: list = field(default_factory=list)
    strict_type_names: bool = False     # L(A) as lxml's, xsi:type naming declared types included

    @property
    def verdict(self) -> str:
        """The combined verdict of the directions checked (incompatible > unknown > compatible)."""
        verdicts = [d.verdict for d in (self.backward, self.forward) if d is not None]
        for v in ("incompatible", "unknown"):
            if v in verdicts:
                return v
        return "compatible"

    def to_dict(self) -> dict:
        return {
            "old": self.old, "new": self.new, "ns_map": self.ns_map, "verdict": self.verdict,
            "strict_type_names": self.strict_type_names,
            "backward": self.backward.to_dict() if self.backward else None,
            "forward": self.forward.to_dict() if self.forward else None,
            "changes": [c.to_dict() for c in self.changes],
            "rule_findings": [_finding_dict(f) for f in self.rule_findings],
        }


def _finding_dict(finding) -> dict:
    if hasattr(finding, "to_dict"):
        return finding.to_dict()
    data = dict(vars(finding))
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in data.items()}


def detect_ns_map(lang_a: Language, lang_b: Language) -> dict[str, str]:
    """Both sets with exactly one target namespace, and different ones: map one to the other."""
    if len(lang_a.target_namespaces) == 1 and len(lang_b.target_namespaces) == 1:
        a, b = lang_a.target_namespaces[0], lang_b.target_namespaces[0]
        if a and b and a != b:
            return {a: b}
    return {}


def _as_language(spec, rules) -> Language:
    if isinstance(spec, Language):
        if rules is not None and spec.rules is None:
            from xmlcompat import schematron

            if not Path(rules).is_file():
                raise CompatError(f"{rules}: rule file not found (or not a file)")
            spec.rules_path, spec.rules = Path(rules), schematron.load_rules(Path(rules))
        return spec
    return load_language(spec, rules)


def decide_direction(lang_a, lang_b, ns_map, witness_dir: Path, stem: str,
                     strict_type_names: bool = False) -> tuple:
    """(DirectionResult, the counterexample or None)."""
    decider = Decider(lang_a, lang_b, ns_map, strict_type_names=strict_type_names)
    fail = decider.decide()
    if fail is None:
        if decider.unknown:
            return DirectionResult("unknown", reasons=list(decider.unknown)), None
        return DirectionResult("compatible"), None
    leaf = fail.leaf()
    reason = f"{fail.path()}: {leaf.message}"
    try:
        tree, error = confirm(lang_a, lang_b, fail, ns_map)
    except WitnessError as exc:
        if witness_module.STRICT:
            raise
        return DirectionResult("unknown", reasons=[reason, str(exc)], path=fail.path(), rule=leaf.rule), None
    path = write(tree, witness_dir, f"{stem}.xml")
    return DirectionResult("incompatible", path, error, [reason] + decider.unknown,
                           path=fail.path(), rule=leaf.rule), fail


def _deep(fn, *args, **kwargs):
    """Run `fn` on a thread with a large stack and recursion limit: the decision and the diff
    recurse once per level of element nesting, and real schemas nest types 1,000 deep. The
    garbage collector is paused meanwhile (xmlcompat/gcpause.py)."""
    with paused_gc():
        return _deep_thread(fn, *args, **kwargs)


def _deep_thread(fn, *args, **kwargs):
    result: dict = {}

    def run():
        try:
            result["value"] = fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - handed back to the caller's thread as is
            result["error"] = exc

    global _deep_running, _saved_limit
    with _deep_lock:      # the limit is process-wide: raised while any check runs
        if _deep_running == 0:
            _saved_limit = sys.getrecursionlimit()
            sys.setrecursionlimit(max(_saved_limit, DEEP_RECURSION))
        _deep_running += 1
        old_size = threading.stack_size(DEEP_STACK)
        try:
            # daemon: Ctrl-C in the waiting thread ends the process without waiting for it
            worker = threading.Thread(target=run, name="xmlcompat", daemon=True)
            worker.start()
        finally:
            threading.stack_size(old_size)
    try:
        worker.join()
    finally:
        with _deep_lock:
            _deep_running -= 1
            if _deep_running == 0:
                sys.setrecursionlimit(_saved_limit)
    if "error" in result:
        raise result["error"]
    return result["value"]


def check(old, new, *, rules_old=None, rules_new=None, ns_map: dict | None = None,
          direction: str = "both", witness_dir: Path | None = None,
          strict_type_names: bool = False) -> Report:
    """Compare two language versions; see the module docstring and docs/compatibility.md.
    `strict_type_names`: count documents whose xsi:type names an element's own declared type
    (left out of L(A) by default, so renaming a type is a refactoring; see "Type names")."""
    return _deep(_check, old, new, rules_old=rules_old, rules_new=rules_new, ns_map=ns_map,
                 direction=direction, witness_dir=witness_dir,
                 strict_type_names=strict_type_names)


def _check(old, new, *, rules_old=None, rules_new=None, ns_map: dict | None = None,
           direction: str = "both", witness_dir: Path | None = None,
           strict_type_names: bool = False) -> Report:
    if direction not in DIRECTIONS:
        raise CompatError(f"direction must be one of {', '.join(DIRECTIONS)}, not {direction!r}")
    lang_a = _as_language(old, rules_old)
    lang_b = _as_language(new, rules_new)
    if ns_map is None:
        ns_map = detect_ns_map(lang_a, lang_b)
    inverse = {v: k for k, v in ns_map.items()}
    if witness_dir is None:
        witness_dir = Path(tempfile.mkdtemp(prefix="xmlcompat-witness-"))
    witness_dir = Path(witness_dir)
    stem = f"{_stem(lang_a)}--{_stem(lang_b)}"
    backward = forward = None
    fails = {}
    if direction in ("backward", "both"):
        backward, fails["backward"] = decide_direction(lang_a, lang_b, ns_map, witness_dir,
                                                       f"{stem}.backward", strict_type_names)
    if direction in ("forward", "both"):
        forward, fails["forward"] = decide_direction(lang_b, lang_a, inverse, witness_dir,
                                                     f"{stem}.forward", strict_type_names)
    changes = diff(lang_a, lang_b, ns_map)
    report = Report(lang_a.name, lang_b.name, ns_map, backward, forward, changes,
                    strict_type_names=strict_type_names)
    reconcile(report, lang_a, lang_b, fails)
    if lang_a.rules is not None or lang_b.rules is not None:
        _check_rules(report, lang_a, lang_b, witness_dir)
    return report


def _check_rules(report: Report, lang_a, lang_b, witness_dir: Path) -> None:
    """Static semantics (Defs. 3–5): xmlcompat/schematron.py compares the rule sets; a rule
    finding that is incompatible makes its direction incompatible (with the finding's
    witness) unless the grammar already did, an undecided one makes a compatible direction
    unknown. The forward direction is the same comparison with the versions swapped."""
    from xmlcompat import schematron
    from xmlcompat.generate import generate_documents

    inverse = {v: k for k, v in report.ns_map.items()}
    runs = {"backward": (lang_a, lang_b, report.ns_map), "forward": (lang_b, lang_a, inverse)}
    for direction, (a, b, mapping) in runs.items():
        result = getattr(report, direction)
        if result is None:
            continue
        findings = schematron.compare_rules(a.rules, b.rules, a, b, generate=generate_documents,
                                            witness_dir=witness_dir, ns_map=mapping)
        if direction == "backward":
            report.rule_findings = list(findings)
        for f in findings:
            if f.backward is False and result.verdict != "incompatible":
                if f.witness is not None:
                    result.verdict, result.witness = "incompatible", Path(f.witness)
                    result.witness_error = f.detail
                    result.rule = f.rule
                    result.reasons.insert(0, f"{f.location}: {f.rule} {f.detail}")
                else:
                    result.verdict = "unknown"
                    result.reasons.append(f"{f.location}: {f.rule} without a witness: {f.detail}")
            elif f.backward is None and f.rule != "RULE_REMOVED" and result.verdict == "compatible":
                result.verdict = "unknown"
                result.reasons.append(f"{f.location}: {f.rule} not decided: {f.detail}")


def _stem(lang: Language) -> str:
    p = lang.paths[0]
    return p.stem if len(lang.paths) == 1 else p.parent.name


def check_history(paths_or_dir, *, ns_map: dict | None = None, direction: str = "backward",
                  witness_dir: Path | None = None, progress=None,
                  strict_type_names: bool = False) -> list:
    """Every version against every earlier one (like BACKWARD_TRANSITIVE): versions are the
    given paths in order, or the entries of a directory (files, or sub-directories holding a
    schema set) in natural name order. Returns [(older, newer, report)]."""
    if isinstance(paths_or_dir, (str, Path)) and Path(paths_or_dir).is_dir():
        base = Path(paths_or_dir)
        entries = [p for p in base.iterdir() if p.is_dir() or p.suffix.lower() in (".xsd", ".xml")]
        versions = sorted(entries, key=_natural)
    else:
        versions = [Path(p) for p in paths_or_dir]
    if len(versions) < 2:
        raise CompatError(f"{paths_or_dir}: a history needs at least two versions")
    langs = []
    for v in versions:
        if progress:
            progress(f"loading {v.name}")
        langs.append(load_language(v))
    out = []
    for j in range(1, len(langs)):
        for i in range(j):
            if progress:
                progress(f"checking {versions[i].name} -> {versions[j].name}")
            report = _deep(_check, langs[i], langs[j], ns_map=ns_map, direction=direction,
                           witness_dir=witness_dir, strict_type_names=strict_type_names)
            out.append((versions[i], versions[j], report))
    return out


def _natural(path: Path):
    import re

    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", path.name)]

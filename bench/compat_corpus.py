"""The labelled mutation corpus: base schema sets × change operators → (A, B) pairs on disk,
each judged by the oracle (bench/compat_oracle.py), the checker (xmlcompat.check) and the
paper-style heuristic (bench/compat_heuristic.py). Shared by bench/compat.py and the sample
test tests/xmlcompat/test_mutation_sample.py.
"""

from __future__ import annotations

import copy
import random
import re
import subprocess
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

import bench.compat_ops_structure
import bench.compat_ops_values  # noqa: F401 — registers operators
from bench.compat_heuristic import heuristic_verdict
from bench.compat_ops import OPERATORS
from bench.compat_oracle import refute_both

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
GSP = REPO.parent / "shared" / "testdata" / "gsp-schemas"
SYNTHETIC = ("library", "shop", "feed")


def _parser():
    return etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=True)


def bases(names=None) -> dict[str, dict]:
    """Base schema sets by name: the three GSP versions, the synthetic ones, and Atrium's
    backup schema once the repository has one."""
    found: dict[str, Path] = {}
    for p in sorted(GSP.glob("*.xml")):
        found["gsp-" + p.stem.split("-")[-1]] = p
    for name in SYNTHETIC:
        found[name] = HERE / "compat_corpus" / f"{name}.xsd"
    backup = _backup_schema()
    if backup is not None:
        found["atrium-backup"] = backup
    out = {}
    for name, path in found.items():
        if names is None or name in names:
            out[name] = {"main.xsd": etree.parse(str(path), _parser()).getroot()}
    return out


def _backup_schema() -> Path | None:
    """The newest tracked XSD with "backup" in its path (Atrium's backup format, e.g.
    gallery/archive/formats/2/backup.xsd), if any."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "*.xsd"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return None
    paths = [
        REPO / p for p in listed if "backup" in p.lower() and not p.startswith(("bench/", "tests/"))
    ]
    return max(
        paths,
        key=lambda p: [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", str(p))],
        default=None,
    )


def write_set(files: dict, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, root in files.items():
        (directory / name).write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    return directory / "main.xsd"


def _key(files: dict) -> bytes:
    return b"".join(name.encode() + etree.tostring(r) for name, r in sorted(files.items()))


@dataclass
class Pair:
    op: str
    base: str
    a: dict
    b: dict
    a_is_base: bool
    dir: Path
    result: dict = field(default_factory=dict)

    @property
    def a_main(self) -> Path:
        return self.dir / "a" / "main.xsd"

    @property
    def b_main(self) -> Path:
        return self.dir / "b" / "main.xsd"


def build(workdir: Path, per_base: int = 3, base_names=None, operators=None) -> list[Pair]:
    """Up to `per_base` distinct pairs per (operator, base); both sides must load in lxml."""
    pairs: list[Pair] = []
    sets = bases(base_names)
    for op_name, op in OPERATORS.items():
        if operators is not None and op_name not in operators:
            continue
        for base_name, base in sets.items():
            seen: set[bytes] = set()
            made = 0
            for attempt in range(per_base * 4):
                if made >= per_base:
                    break
                rng = random.Random(zlib.crc32(f"{op_name}/{base_name}/{attempt}".encode()))
                out = op(copy.deepcopy(base), rng)
                if out is None:
                    continue
                a, b = (base, out) if isinstance(out, dict) else out
                key = _key(a) + b"|" + _key(b)
                if key in seen or _key(a) == _key(b):
                    continue
                seen.add(key)
                pair = Pair(op_name, base_name, a, b, a is base, workdir / f"{len(pairs):04d}")
                write_set(a, pair.dir / "a")
                write_set(b, pair.dir / "b")
                try:
                    etree.XMLSchema(etree.parse(str(pair.a_main)))
                    etree.XMLSchema(etree.parse(str(pair.b_main)))
                except etree.XMLSchemaParseError:
                    continue  # the edit made no valid schema (e.g. it broke Unique Particle Attribution)
                pairs.append(pair)
                made += 1
    return pairs


def namespace_map(a: dict, b: dict) -> dict[str, str]:
    """The convention of issue 13: sets with exactly one target namespace each, different."""
    ta = {r.get("targetNamespace", "") for r in a.values()}
    tb = {r.get("targetNamespace", "") for r in b.values()}
    if len(ta) == 1 and len(tb) == 1:
        (x,), (y,) = ta, tb
        if x and y and x != y:
            return {x: y}
    return {}


def _mapped(doc, ns_map):
    if not ns_map:
        return doc
    text = etree.tostring(doc).decode()
    for old, new in ns_map.items():
        text = text.replace(f'"{old}"', f'"{new}"')
    return etree.ElementTree(etree.fromstring(text))


def judge(pair: Pair, lang_cache: dict, samples: int = 120) -> dict:
    """Oracle, checker and heuristic on one pair; returns (and keeps) the figures. Both
    definitions of L(A) (docs/compatibility.md, "Type names"): `oracle`/`verdict` the default
    one, `oracle_strict`/`verdict_strict` with xsi:type naming declared types counted."""
    from xmlcompat import CompatError, check, load_language

    parser = _parser()
    schema_a = etree.XMLSchema(etree.parse(str(pair.a_main), parser))
    schema_b = etree.XMLSchema(etree.parse(str(pair.b_main), parser))
    ns_map = namespace_map(pair.a, pair.b)
    t0 = time.perf_counter()
    doc, doc_strict, valid = refute_both(
        pair.a, schema_a, schema_b, samples=samples, to_b=lambda d: _mapped(d, ns_map)
    )
    r = {
        "op": pair.op,
        "base": pair.base,
        "oracle": "refuted" if doc is not None else "not refuted",
        "oracle_strict": "refuted" if doc_strict is not None else "not refuted",
        "samples": valid,
        "oracle_s": time.perf_counter() - t0,
    }
    t0 = time.perf_counter()
    try:
        key = ("base", pair.base) if pair.a_is_base else None
        lang_a = lang_cache.get(key) if key else None
        if lang_a is None:
            lang_a = load_language(pair.a_main)
            if key:
                lang_cache[key] = lang_a
        lang_b = load_language(pair.b_main)
        report = check(lang_a, lang_b, direction="backward", witness_dir=pair.dir / "witness")
        r["check_s"] = time.perf_counter() - t0
        strict = check(
            lang_a,
            lang_b,
            direction="backward",
            witness_dir=pair.dir / "witness-strict",
            strict_type_names=True,
        ).backward
    except CompatError as exc:
        r.update(verdict="error", error=str(exc), check_s=time.perf_counter() - t0)
        return _finish(pair, r)
    back = report.backward
    r["verdict"] = back.verdict
    r["verdict_strict"] = strict.verdict
    r["witness_ok_strict"] = None
    if strict.verdict == "incompatible":
        r["witness_ok_strict"] = bool(strict.witness) and _witness_ok(
            Path(strict.witness), schema_a, schema_b, ns_map
        )
    r["witness_ok"] = None
    if back.verdict == "incompatible":
        r["witness_ok"] = bool(back.witness) and _witness_ok(
            Path(back.witness), schema_a, schema_b, ns_map
        )
    verdicts = [c.backward for c in report.changes] + [f.backward for f in report.rule_findings]
    r["changes"] = [c.rule for c in report.changes]
    if back.verdict == "compatible":
        r["consistent"] = False not in verdicts
    elif back.verdict == "incompatible":
        r["consistent"] = False in verdicts
    else:
        r["consistent"] = not all(v is True for v in verdicts) or not verdicts
    r["heuristic"], r["heuristic_rules"] = heuristic_verdict(pair.a, pair.b)
    return _finish(pair, r)


def _finish(pair: Pair, r: dict) -> dict:
    if "heuristic" not in r:
        r["heuristic"], r["heuristic_rules"] = heuristic_verdict(pair.a, pair.b)
    pair.result = r
    return r


def _witness_ok(path: Path, schema_a, schema_b, ns_map) -> bool:
    doc = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True))
    return schema_a.validate(doc) and not schema_b.validate(_mapped(doc, ns_map))

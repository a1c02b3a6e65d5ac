"""Benchmark of the xmlcompat checker (issue 13): exactness on a labelled mutation corpus and
speed/memory on large schema sets. Prints one table.

    python -m bench.compat [--quick] [--per-base N] [--samples N] [--keep DIR]
    ./atrium bench compat

Exactness: ≥ 600 (A, B) pairs from ≥ 30 change operators (bench/compat_ops*.py) applied to the
GSP schemas, synthetic schemas with abstract types and substitution groups
(bench/compat_corpus/) and Atrium's backup schema when the repository has one. Each pair is
labelled by a brute-force oracle independent of the checker (bench/compat_oracle.py: its own
random sampler of A, lxml validation against B): "refuted" when a sample of A fails B.
Both the oracle and the checker use the default definition of L(A) (docs/compatibility.md,
"Type names": documents whose xsi:type names an element's own declared type are left out); the
strict definition (lxml's validity alone, `strict_type_names=True`) is judged on the same
samples and counted in its own columns.
Columns, per operator and overall:
  pairs  · refuted (oracle) · agree: exact verdict = oracle label · C∧R: "compatible" verdicts the
  oracle refutes (must be 0) · I∧¬R: incompatible verdicts the sampler did not reach (their
  witnesses are validated all the same) · unk: unknown verdicts · chg: per-change classification
  consistent with the exact verdict · wit: incompatible verdicts with a witness that lxml
  validates here (valid under A, invalid under B) · strict C∧R, strict wit: the same two figures
  under the strict definition · heuristic FI/miss: the paper-style heuristic's false
  "incompatible" (truth compatible) and missed incompatibilities.
"""

from __future__ import annotations

import argparse
import copy
import resource
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from lxml import etree

from bench.compat_corpus import GSP, build, judge, write_set

COLUMNS = (
    "operator",
    "pairs",
    "refuted",
    "agree",
    "C∧R",
    "I∧¬R",
    "unk",
    "chg",
    "wit",
    "strict C∧R",
    "strict wit",
    "heur FI",
    "heur miss",
)


def _truth(r: dict) -> str | None:
    """incompatible if the oracle or a validated checker witness shows it; compatible if the
    checker proves it and the oracle agrees; None when neither is known."""
    if r["oracle"] == "refuted" or (r.get("verdict") == "incompatible" and r.get("witness_ok")):
        return "incompatible"
    if r.get("verdict") == "compatible":
        return "compatible"
    return None


def summarize(results: list[dict]) -> dict:
    n = len(results)
    refuted = sum(r["oracle"] == "refuted" for r in results)
    agree = sum(
        (r["oracle"] == "refuted") == (r.get("verdict") == "incompatible")
        and r.get("verdict") in ("compatible", "incompatible")
        for r in results
    )
    incompatible = [r for r in results if r.get("verdict") == "incompatible"]
    strict_incompatible = [r for r in results if r.get("verdict_strict") == "incompatible"]
    heur_fi = sum(r["heuristic"] == "incompatible" and _truth(r) == "compatible" for r in results)
    heur_miss = sum(r["heuristic"] == "compatible" and _truth(r) == "incompatible" for r in results)
    return {
        "pairs": n,
        "refuted": refuted,
        "agree": agree,
        "C∧R": sum(r.get("verdict") == "compatible" and r["oracle"] == "refuted" for r in results),
        "I∧¬R": sum(
            r.get("verdict") == "incompatible" and r["oracle"] != "refuted" for r in results
        ),
        "unk": sum(r.get("verdict") in ("unknown", "error") for r in results),
        "chg": sum(bool(r.get("consistent")) for r in results),
        "wit": (sum(bool(r.get("witness_ok")) for r in incompatible), len(incompatible)),
        "strict C∧R": sum(
            r.get("verdict_strict") == "compatible" and r.get("oracle_strict") == "refuted"
            for r in results
        ),
        "strict wit": (
            sum(bool(r.get("witness_ok_strict")) for r in strict_incompatible),
            len(strict_incompatible),
        ),
        "heur FI": heur_fi,
        "heur miss": heur_miss,
    }


def _pct(a: int, b: int) -> str:
    return f"{100 * a / b:.0f}%" if b else "–"


def print_table(results: list[dict], out=sys.stdout) -> dict:
    by_op: dict[str, list] = defaultdict(list)
    for r in results:
        by_op[r["op"]].append(r)
    widths = (30, 5, 7, 6, 4, 5, 4, 5, 9, 10, 10, 7, 9)
    print("  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths)), file=out)
    rows = sorted(by_op.items()) + [("ALL", results)]
    total = {}
    for name, rs in rows:
        s = summarize(rs)
        wit_ok, wit_n = s["wit"]
        swit_ok, swit_n = s["strict wit"]
        cells = (
            name,
            s["pairs"],
            s["refuted"],
            _pct(s["agree"], s["pairs"]),
            s["C∧R"],
            s["I∧¬R"],
            s["unk"],
            _pct(s["chg"], s["pairs"]),
            f"{wit_ok}/{wit_n}",
            s["strict C∧R"],
            f"{swit_ok}/{swit_n}",
            s["heur FI"],
            s["heur miss"],
        )
        if name == "ALL":
            print("-" * 110, file=out)
            total = s
        print("  ".join(str(c).ljust(w) for c, w in zip(cells, widths)), file=out)
    return total


# -- speed and memory -----------------------------------------------------------------------------
def big_set(directory: Path, copies: int = 40, tighten: int | None = None) -> Path:
    """~1 MB schema set: `copies` files, each GSP 4.5.0's tables under its own root element,
    included by main.xsd (hundreds of anonymous types). `tighten`: the copy whose maxLength
    facets are halved (the incompatible change B makes)."""
    source = etree.parse(str(GSP / "GalleryServerSchema-4.5.0.xml")).getroot()
    directory.mkdir(parents=True, exist_ok=True)
    main = etree.Element(source.tag, nsmap=source.nsmap)
    for i in range(copies):
        part = copy.deepcopy(source)
        for el in part.findall("{http://www.w3.org/2001/XMLSchema}element"):
            el.set("name", f"{el.get('name')}{i}")
        if i == tighten:
            for f in part.iter("{http://www.w3.org/2001/XMLSchema}maxLength"):
                if int(f.get("value")) < 10_000:
                    f.set("value", str(max(1, int(f.get("value")) // 2)))
        (directory / f"part{i:02d}.xsd").write_bytes(etree.tostring(part))
        etree.SubElement(
            main, "{http://www.w3.org/2001/XMLSchema}include", schemaLocation=f"part{i:02d}.xsd"
        )
    (directory / "main.xsd").write_bytes(etree.tostring(main))
    return directory / "main.xsd"


def speed(work: Path, quick: bool, out=sys.stdout) -> dict:
    from xmlcompat import check, check_history, load_language

    figures = {}
    copies = 10 if quick else 40
    a_main = big_set(work / "big-a", copies)
    b_main = big_set(work / "big-b", copies, tighten=copies // 2)
    size = sum(p.stat().st_size for p in (work / "big-a").iterdir())
    # wall clock, and this process's CPU time: on the shared machine other work stretches
    # the wall clock several times over, the CPU time is what the pair itself costs
    t0, c0 = time.perf_counter(), time.process_time()
    lang_a = load_language(a_main)
    figures["load_a_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    lang_b = load_language(b_main)
    figures["load_b_s"] = time.perf_counter() - t0
    figures["load_cpu_s"] = time.process_time() - c0
    t0, c0 = time.perf_counter(), time.process_time()
    report = check(lang_a, lang_b, direction="backward", witness_dir=work / "big-witness")
    figures["decide_s"] = time.perf_counter() - t0
    figures["decide_cpu_s"] = time.process_time() - c0
    types = (
        len(
            list(
                etree.parse(str(GSP / "GalleryServerSchema-4.5.0.xml"))
                .getroot()
                .iter("{http://www.w3.org/2001/XMLSchema}complexType")
            )
        )
        * copies
    )
    print(
        f"\n1 pair of {size / 1e6:.2f} MB schema sets ({copies} files, {types} complex types): "
        f"load A {figures['load_a_s']:.1f} s, load B {figures['load_b_s']:.1f} s "
        f"(CPU {figures['load_cpu_s']:.1f} s for both), decide {figures['decide_s']:.2f} s "
        f"(CPU {figures['decide_cpu_s']:.2f} s; target ≤ 5 s) → {report.backward.verdict}"
        f"{', witness ' + Path(report.backward.witness).name if report.backward.witness else ''}",
        file=out,
    )
    history = work / "history"
    versions = _history(history, 4 if quick else 10)
    t0, c0 = time.perf_counter(), time.process_time()
    results = check_history(versions, direction="backward", witness_dir=work / "history-witness")
    figures["history_s"] = time.perf_counter() - t0
    figures["history_cpu_s"] = time.process_time() - c0
    verdicts = [r.backward.verdict for _, _, r in results]
    print(
        f"{len(versions)}-version history, transitive ({len(results)} pairs): {figures['history_s']:.1f} s "
        f"(CPU {figures['history_cpu_s']:.1f} s; target ≤ 60 s); {verdicts.count('incompatible')} incompatible, "
        f"{verdicts.count('compatible')} compatible, {verdicts.count('unknown')} unknown",
        file=out,
    )
    figures["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (maxrss): {figures['maxrss_mb']:.0f} MB (target ≤ 1024 MB)", file=out)
    return figures


def _history(directory: Path, count: int) -> list[Path]:
    """Versions of GSP 4.5.0: each adds an optional column to a table (compatible), and the
    middle one also drops a required column (incompatible for every later pair with it)."""
    from bench.compat_corpus import bases

    files = bases(["gsp-4.5.0"])["gsp-4.5.0"]
    out = []
    root = files["main.xsd"]
    seqs = list(root.iter("{http://www.w3.org/2001/XMLSchema}sequence"))
    for v in range(count):
        if v:
            seq = seqs[v % len(seqs)]
            etree.SubElement(
                seq,
                "{http://www.w3.org/2001/XMLSchema}element",
                name=f"Added{v}",
                type="xs:string",
                minOccurs="0",
            )
            if v == count // 2:
                required = [e for e in seqs[0] if e.get("minOccurs", "1") != "0"]
                seqs[0].remove(required[-1])
        out.append(write_set(files, directory / f"v{v + 1}"))
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.compat", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a sample: one pair per operator and base, fewer samples",
    )
    parser.add_argument(
        "--per-base",
        type=int,
        default=None,
        help="pairs per operator and base (default 4; quick 1)",
    )
    parser.add_argument(
        "--samples",
        type=int,
        default=None,
        help="oracle samples of A per pair (default 150; quick 60)",
    )
    parser.add_argument(
        "--keep", type=Path, default=None, help="keep the corpus and witnesses in this directory"
    )
    args = parser.parse_args(argv)
    per_base = args.per_base or (1 if args.quick else 4)
    samples = args.samples or (60 if args.quick else 150)
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-compat-"))
    try:
        t0 = time.perf_counter()
        pairs = build(work / "corpus", per_base=per_base)
        ops = len({p.op for p in pairs})
        print(
            f"corpus: {len(pairs)} pairs from {ops} operators on {len({p.base for p in pairs})} base schema sets "
            f"({time.perf_counter() - t0:.1f} s to build); oracle: ≤ {samples} valid samples of A per pair",
            file=sys.stderr,
        )
        cache: dict = {}
        results = []
        for i, pair in enumerate(pairs):
            results.append(judge(pair, cache, samples=samples))
            if (i + 1) % 50 == 0:
                print(f"  {i + 1}/{len(pairs)} pairs judged", file=sys.stderr)
        corpus_s = time.perf_counter() - t0
        total = print_table(results)
        wit_ok, wit_n = total["wit"]
        print(
            f"\n{total['pairs']} pairs, {ops} operators: exact verdict agrees with the oracle on "
            f"{_pct(total['agree'], total['pairs'])}; refuted 'compatible' verdicts: {total['C∧R']} "
            f"(strict type names: {total['strict C∧R']}, witnesses validated "
            f"{total['strict wit'][0]}/{total['strict wit'][1]}); "
            f"incompatible verdicts with a validated witness: {_pct(wit_ok, wit_n)} ({wit_ok}/{wit_n}); "
            f"unknown: {_pct(total['unk'], total['pairs'])}; change list consistent: "
            f"{_pct(total['chg'], total['pairs'])}; heuristic: {total['heur FI']} false incompatible, "
            f"{total['heur miss']} missed ({corpus_s:.0f} s)"
        )
        check_s = sorted(r.get("check_s", 0) for r in results)
        print(
            f"checker per pair (load B + decide): median {check_s[len(check_s) // 2]:.2f} s, max {check_s[-1]:.2f} s"
        )
        speed(work, args.quick)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

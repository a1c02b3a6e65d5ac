"""`python -m server schema-check OLD NEW …` (and `./atrium schema-check`).

Exit status: 0 compatible, 1 incompatible, 3 unknown, 2 usage or input error (one line on
stderr, never a traceback). Progress goes to stderr, the result to stdout (text grouped by
verdict, or --json for CI).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from xmlcompat.errors import CompatError

EXIT = {"compatible": 0, "incompatible": 1, "unknown": 3}


class _Parser(argparse.ArgumentParser):
    def error(self, message):          # one line and exit 2, as for every bad input
        print(f"schema-check: {message}", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m server schema-check",
                description="Is the new XML language version (XSD + Schematron) compatible with the old?")
    p.add_argument("old", nargs="?", help="old version: an .xsd file or a directory of them")
    p.add_argument("new", nargs="?", help="new version: an .xsd file or a directory of them")
    p.add_argument("--rules-old", type=Path, help="Schematron rules of the old version")
    p.add_argument("--rules-new", type=Path, help="Schematron rules of the new version")
    p.add_argument("--map", action="append", default=[], metavar="OLD_NS=NEW_NS",
                   help="namespace of the old version that the new version renamed (repeatable)")
    p.add_argument("--direction", choices=("backward", "forward", "both"), default=None,
                   help="backward: old documents stay valid; forward: new documents valid for old "
                        "readers (default both; backward for --history)")
    p.add_argument("--history", type=Path, metavar="DIR",
                   help="check every version in DIR against every earlier one (transitive)")
    p.add_argument("--witness-dir", type=Path, help="where witness documents are written")
    p.add_argument("--strict-type-names", action="store_true",
                   help="count documents whose xsi:type names an element's own declared type "
                        "(then renaming a type or making it anonymous is incompatible)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    return p


def _ns_map(items: list[str]) -> dict[str, str] | None:
    if not items:
        return None
    out = {}
    for item in items:
        if "=" not in item:
            raise CompatError(f"--map {item!r}: expected OLD_NAMESPACE=NEW_NAMESPACE")
        old, new = item.split("=", 1)
        if not old or not new:
            raise CompatError(f"--map {item!r}: both namespace names must be given")
        out[old] = new
    return out


def _progress(text: str) -> None:
    print(f"schema-check: {text}", file=sys.stderr, flush=True)


def _text(report, older=None, newer=None) -> str:
    lines = []
    head = f"{older} -> {newer}" if older else f"{report.old} -> {report.new}"
    lines.append(f"{head}: {report.verdict.upper()}")
    if report.ns_map:
        lines.append("  namespaces: " + ", ".join(f"{a} -> {b}" for a, b in report.ns_map.items()))
    for name in ("backward", "forward"):
        result = getattr(report, name)
        if result is None:
            continue
        lines.append(f"  {name}: {result.verdict}")
        if result.witness:
            lines.append(f"    witness: {result.witness}")
            lines.append(f"    rejected: {result.witness_error}")
        for reason in result.reasons[:10]:
            lines.append(f"    - {reason}")
    groups = {"incompatible": [], "unknown": [], "compatible": [], "refactoring": []}
    for c in report.changes:
        verdicts = [v for v in (c.backward, c.forward)]
        if c.refactoring:
            groups["refactoring"].append(c)
        elif False in verdicts:
            groups["incompatible"].append(c)
        elif None in verdicts:
            groups["unknown"].append(c)
        else:
            groups["compatible"].append(c)
    for label, items in groups.items():
        if not items:
            continue
        lines.append(f"  changes ({label}): {len(items)}")
        for c in items:
            flags = f"backward={_flag(c.backward)} forward={_flag(c.forward)}"
            seen = f" [witness: {', '.join(c.witnessed)}]" if c.witnessed else ""
            detail = f" — {c.detail}" if c.detail else ""
            lines.append(f"    {c.rule:<26} {c.location}{detail} ({flags}){seen}")
            if c.note:
                lines.append(f"      note: {c.note}")
    for f in report.rule_findings:
        lines.append(f"  rule {f.rule}: {f.location} backward={_flag(f.backward)} {f.detail}"
                     + (f" witness: {f.witness}" if getattr(f, "witness", None) else ""))
    return "\n".join(lines)


def _flag(v) -> str:
    return {True: "yes", False: "NO", None: "unknown"}[v]


def run(args) -> int:
    from xmlcompat.compare import check, check_history

    ns_map = _ns_map(args.map)
    if args.history is not None:
        if args.old or args.new:
            raise CompatError("give either OLD NEW or --history DIR, not both")
        if not args.history.is_dir():
            raise CompatError(f"{args.history}: not a directory")
        results = check_history(args.history, ns_map=ns_map, direction=args.direction or "backward",
                                witness_dir=args.witness_dir, progress=_progress,
                                strict_type_names=args.strict_type_names)
        verdicts = [r.verdict for _, _, r in results]
        if args.json:
            print(json.dumps([{"older": str(a), "newer": str(b), **r.to_dict()} for a, b, r in results],
                             indent=2))
        else:
            print("\n".join(_text(r, a.name, b.name) for a, b, r in results))
        overall = "incompatible" if "incompatible" in verdicts else "unknown" if "unknown" in verdicts else "compatible"
        return EXIT[overall]
    if not args.old or not args.new:
        raise CompatError("give OLD and NEW (files or directories of .xsd), or --history DIR")
    _progress(f"checking {args.old} -> {args.new}")
    report = check(args.old, args.new, rules_old=args.rules_old, rules_new=args.rules_new,
                   ns_map=ns_map, direction=args.direction or "both", witness_dir=args.witness_dir,
                   strict_type_names=args.strict_type_names)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, default=str))
    else:
        print(_text(report))
    return EXIT[report.verdict]


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return run(args)
    except SystemExit as exc:
        return int(exc.code or 0)
    except CompatError as exc:
        print(f"schema-check: {exc}", file=sys.stderr)
        return 2
    except RecursionError:
        print("schema-check: schema nesting too deep to analyse", file=sys.stderr)
        return 2
    except MemoryError:
        print("schema-check: out of memory while analysing the schemas", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

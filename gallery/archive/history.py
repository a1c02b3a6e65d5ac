"""The CI gate over the backup language's history (issue 14): xmlcompat decides, for every
version against every earlier one (transitively), whether the newer accepts every document
of the older; a step that is not proved compatible must be bridged by a transformation
(formats/<n>/from-<n-1>.xsl) somewhere between the two versions, or restore could not read
the older backups. tests/gallery/archive/test_backup_history.py runs it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gallery.archive import formats


@dataclass
class Step:
    old: int
    new: int
    verdict: str            # compatible | incompatible | unknown (xmlcompat, backward)
    rule: str | None
    reasons: list
    witness: Path | None    # an old document the new version refuses (incompatible only)


def language(version: int):
    from xmlcompat import load_language

    folder = formats.version_dir(version)
    return load_language(folder / "backup.xsd", folder / "backup.sch")


def check_steps(witness_dir: Path, versions: list[int] | None = None) -> list[Step]:
    """Every version against every earlier one (BACKWARD_TRANSITIVE)."""
    from xmlcompat import check

    versions = versions or formats.versions()
    langs = {v: language(v) for v in versions}
    steps = []
    for j, new in enumerate(versions):
        for old in versions[:j]:
            report = check(langs[old], langs[new], direction="backward",
                           witness_dir=Path(witness_dir) / f"{old}-{new}")
            result = report.backward
            steps.append(Step(old, new, result.verdict, result.rule, list(result.reasons),
                              result.witness))
    return steps


def gate_problems(steps: list[Step], has_transformation=None) -> list[str]:
    """What fails the gate: a pair not proved compatible with no transformation between."""
    has_transformation = has_transformation or (lambda v: formats.upgrade_path(v) is not None)
    problems = []
    for step in steps:
        if step.verdict == "compatible":
            continue
        if any(has_transformation(v) for v in range(step.old + 1, step.new + 1)):
            continue
        why = f"{step.rule}: {step.reasons[0]}" if step.reasons else step.rule
        problems.append(f"format {step.new} is {step.verdict} with format {step.old} ({why}; "
                        f"witness {step.witness}) and no transformation from-{step.new - 1}.xsl "
                        f"bridges them")
    return problems

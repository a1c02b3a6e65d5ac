"""Making the change list agree with the exact verdicts (see xmlcompat/changes.py)."""

from __future__ import annotations

from xmlcompat.changes import Change, _local
from xmlcompat.decide import Decider


def _target(fail) -> str:
    """The element path the witness exercises most precisely (the offending child/attribute)."""
    leaf = fail.leaf()
    path = fail.path()
    if leaf.kind == "unexpected" and leaf.word:
        return f"{path}/{_local(leaf.word[-1][1])}"
    if leaf.kind in ("attr-missing", "attr-unexpected", "attr-value"):
        name = leaf.omit_attr or (leaf.attr[0] if leaf.attr else "")
        return f"{path}/@{_local(name)}"
    return path


def reconcile(report, lang_a, lang_b, fails: dict) -> None:
    """Make the change list agree with the exact verdicts (see the module docstring)."""
    changes = report.changes
    # 1. refactorings: per pair of declarations whose languages are equal both ways
    verdict_cache: dict = {}
    inverse = {v: k for k, v in report.ns_map.items()}

    for c in changes:
        if c.pair is None:
            continue
        key = (id(c.pair[0]), id(c.pair[1]))
        if key not in verdict_cache:
            da, db = c.pair
            # one pair at a time, so unknown reasons are never lost in a shared memo
            strict = report.strict_type_names
            fwd_dec = Decider(lang_a, lang_b, report.ns_map, shallow=True, strict_type_names=strict)
            back_dec = Decider(lang_b, lang_a, inverse, shallow=True, strict_type_names=strict)
            equal = (back_dec.elements(db, da, db.name) is None and not back_dec.unknown
                     and fwd_dec.elements(da, db, da.name) is None and not fwd_dec.unknown)
            verdict_cache[key] = equal
        if verdict_cache[key]:
            c.backward = c.forward = True
            c.refactoring = True
    # 2. a compatible direction has no incompatible change
    for direction in ("backward", "forward"):
        result = getattr(report, direction)
        if result is not None and result.verdict == "compatible":
            for c in changes:
                if getattr(c, direction) is False:
                    setattr(c, direction, True)
                    c.refactoring = c.refactoring or (c.backward and c.forward) is True
    if report.backward and report.forward and report.backward.verdict == report.forward.verdict == "compatible":
        for c in changes:
            c.refactoring = True
    # 3. an undecided direction has an undecided (or incompatible) change to show for it
    for direction in ("backward", "forward"):
        result = getattr(report, direction)
        if result is None or result.verdict != "unknown":
            continue
        if not any(getattr(c, direction) is not True for c in changes):
            reason = result.reasons[0] if result.reasons else "not decided"
            path = reason.split(":", 1)[0] if reason.startswith("/") else ""
            c = Change("UNDECIDED", path or "/", None, None, reason, path=path)
            changes.append(c)
    # 4. an incompatible direction points at the change(s) its witness exercises
    for direction in ("backward", "forward"):
        result, fail = getattr(report, direction), fails.get(direction)
        if result is None or result.verdict != "incompatible" or fail is None:
            continue
        target = _target(fail)
        if direction == "forward":
            hits = [c for c in changes if c.path and _same_path(c.path, target, report, True)]
        else:
            hits = [c for c in changes if c.path and _same_path(c.path, target, report, False)]
        hits = [c for c in hits if getattr(c, direction) is not True] or hits
        if not hits:
            # a change of a named type is listed once, at its first use: find it by the type
            side = 1 if direction == "forward" else 0
            leaf_type = fail.leaf().type_a
            hits = [c for c in changes if c.types is not None and leaf_type is not None
                    and c.types[side] is leaf_type]
        if not hits:
            leaf = fail.leaf()
            c = Change(leaf.rule, target + (f" ({leaf.loc_b or leaf.loc_a})" if leaf.loc_b or leaf.loc_a else ""),
                       None, None, leaf.message, path=target)
            changes.append(c)
            hits = [c]
        for c in hits:
            setattr(c, direction, False)
            c.refactoring = False
            c.witnessed.append(direction)
    note_type_names(report)


#: changes of a type's name: compatible only because L(A) leaves out documents whose xsi:type
#: names an element's own declared type (docs/compatibility.md, "Type names")
TYPE_NAME_RULES = ("TYPE_RENAMED", "TYPE_MADE_ANONYMOUS", "ANONYMOUS_TYPE_NAMED")


def note_type_names(report) -> None:
    """In the default mode, say on each type-name change which xsi:type use its verdict
    leaves out (the element's own declared type named in a document)."""
    if report.strict_type_names:
        return
    for c in report.changes:
        if c.rule in TYPE_NAME_RULES and c.backward is not False and c.forward is not False:
            element = c.path or "the element"
            if c.pair is not None:
                old, new = c.pair[0].type_name, c.pair[1].type_name
            else:
                old = new = None
            uses = [f'{side} documents with xsi:type="{_local(name)}"'
                    for side, name in (("old", old), ("new", new)) if name]
            c.note = (f"a refactoring because {' and '.join(uses) or 'documents with xsi:type'} on "
                      f"{element} (naming its own declared type, redundant there) are left out of "
                      "the languages compared; --strict-type-names counts them and then finds "
                      "this change incompatible")


def _same_path(change_path: str, target: str, report, forward: bool) -> bool:
    """Change paths are written with the old version's names; a forward witness is a
    document of the new version, so its path may carry new names (renames, moves)."""
    if change_path == target:
        return True
    if forward:
        # compare name by name, allowing any step to be a rename recorded in the changes
        renames = {}
        for c in report.changes:
            if c.rule in ("ELEMENT_RENAMED", "ROOT_ELEMENT_RENAMED") and " → " in c.detail:
                old, new = c.detail.split(" → ", 1)
                renames[new] = old
        steps = [renames.get(s, s) for s in target.split("/")]
        if "/".join(steps) == change_path:
            return True
        if " → " in report_detail_for(change_path, report):
            return report_detail_for(change_path, report).split(" → ")[1].endswith(target)
    return False


def report_detail_for(path: str, report) -> str:
    for c in report.changes:
        if c.path == path and c.rule == "ELEMENT_MOVED":
            return c.detail
    return ""

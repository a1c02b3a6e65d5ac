"""The house plan, checked: no import circles, and imports run only down the layers.

Every module of the project is parsed with `ast` (nothing is imported or run) and every
`import`/`from … import` in it counts, at module level or inside a function, so a circle
cannot hide in a function. A module's import of its own package's `__init__` is implied
by Python and ignored. Run `python tests/test_layers.py` to print the summary.
"""

from __future__ import annotations

import ast
import os
import sys
import tomllib
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The allowed order, top to bottom: a module may import its own layer's packages and any
# layer below, never one above. server/ wires everything (and the benchmarks drive it);
# nothing below it imports server/. On the ground floor (last row) packages may use each
# other (jobs/ asks storage/ who this process is), but those in STANDALONE import nothing
# of the project at all.
LAYERS: list[tuple[str, ...]] = [
    ("server", "bench"),
    ("handlers",),
    ("tenants",),
    ("gallery",),
    ("media", "storage", "jobs", "keys", "xmlcompat"),
]
STANDALONE = ("xmlcompat",)
# Inside gallery/: the wings sit on its root modules (settings, schema, usage, errors, ids,
# urls, cached), which import no wing.
GALLERY_WINGS = ("people", "library", "intake", "processing", "notices", "archive", "migrations", "gspimport")
TESTS = "tests"
# Drivers that may reuse the tests' sample makers (bench.video makes its clips with
# tests.media.av_samples); product code never imports tests.
MAY_IMPORT_TESTS = ("bench",)
SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "data", "__pycache__", "static", "templates"}


def find_modules(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every package directory (one with __init__.py)."""
    modules: dict[str, Path] = {}
    for top in sorted(p for p in root.iterdir() if p.is_dir() and (p / "__init__.py").exists()):
        if top.name in SKIP_DIRS or top.name.startswith("."):
            continue
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames[:] = sorted(
                d for d in dirnames if d not in SKIP_DIRS and not d.startswith(".")
            )
            for filename in sorted(f for f in filenames if f.endswith(".py")):
                parts = list((Path(dirpath) / filename).relative_to(root).with_suffix("").parts)
                if parts[-1] == "__init__":
                    parts.pop()
                modules[".".join(parts)] = Path(dirpath) / filename
    return modules


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def import_graph(root: Path) -> tuple[dict[str, Path], dict[str, set[str]]]:
    """(modules, imports): module -> the project modules it imports, anywhere in its code."""
    modules = find_modules(root)
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([p for p in parts if p] + ([base] if base else []))
                targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
            for target in targets:
                found = _resolve(target, modules)
                if found and found != name and not name.startswith(found + "."):
                    graph[name].add(found)
    return modules, graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each circle as a closed path [a, b, …, a] (one per strongly connected component)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(_path_through(min(component), component, graph))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _path_through(start: str, component: set[str], graph: dict[str, set[str]]) -> list[str]:
    """A shortest way from `start` back to itself inside its component (breadth first)."""
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph.get(v, ())):
                if w not in component:
                    continue
                if w == start:
                    path = [v]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [start, *reversed(path[:-1]), start]
                if w not in came_from:
                    came_from[w] = v
                    nxt.append(w)
        frontier = nxt
    return [start, start]


def layer_of(module: str) -> int | None:
    top = module.split(".")[0]
    for n, group in enumerate(LAYERS):
        if top in group:
            return n
    return None


def _wing(module: str) -> str | None:
    parts = module.split(".")
    return (
        parts[1] if len(parts) > 2 and parts[0] == "gallery" and parts[1] in GALLERY_WINGS else None
    )


def layer_problems(modules: dict[str, Path], graph: dict[str, set[str]]) -> list[str]:
    """One line per import that runs up (or out of a standalone package), naming both files."""
    problems = []

    def where(m: str) -> str:
        return str(modules[m].relative_to(ROOT) if modules[m].is_relative_to(ROOT) else modules[m])

    tops = {m.split(".")[0] for m in modules if m.split(".")[0] != TESTS}
    for top in sorted(t for t in tops if layer_of(t) is None):
        problems.append(f"package {top}/ has no place in LAYERS (tests/test_layers.py)")
    for module in sorted(graph):
        if module.split(".")[0] == TESTS:
            continue
        mine = layer_of(module)
        for target in sorted(graph[module]):
            theirs = layer_of(target)
            if target.split(".")[0] == TESTS:
                if module.split(".")[0] in MAY_IMPORT_TESTS:
                    continue
                problems.append(
                    f"{where(module)} imports {where(target)}: product code never imports tests"
                )
            elif mine is None or theirs is None:
                continue
            elif theirs < mine:
                problems.append(
                    f"{where(module)} imports {where(target)}: {LAYERS[mine][0]}/ is below "
                    f"{target.split('.')[0]}/ (layers: {' > '.join(','.join(g) for g in LAYERS)})"
                )
            elif (
                module.split(".")[0] in STANDALONE and target.split(".")[0] != module.split(".")[0]
            ):
                problems.append(
                    f"{where(module)} imports {where(target)}: "
                    f"{module.split('.')[0]}/ imports nothing of the project"
                )
            elif module.split(".")[0] == "gallery" and _wing(module) is None and _wing(target):
                problems.append(
                    f"{where(module)} imports {where(target)}: gallery's root modules sit below its wings"
                )
    return problems


def summary(root: Path = ROOT) -> str:
    modules, graph = import_graph(root)
    product = [m for m in modules if m.split(".")[0] != TESTS]
    return (
        f"{len(product)} modules (+{len(modules) - len(product)} test modules), "
        f"{sum(len(v) for v in graph.values())} imports, {len(LAYERS)} layers "
        f"({' > '.join(','.join(g) for g in LAYERS)}), {len(circles(graph))} circles, "
        f"{len(layer_problems(modules, graph))} upward imports"
    )


# -- the checks -----------------------------------------------------------------------------------


def test_no_module_is_part_of_an_import_circle():
    _, graph = import_graph(ROOT)
    found = circles(graph)
    assert not found, "import circles:\n" + "\n".join(" -> ".join(c) for c in found)


def test_imports_run_only_down_the_layers():
    modules, graph = import_graph(ROOT)
    problems = layer_problems(modules, graph)
    assert not problems, "\n".join(problems)


def test_every_package_is_listed_for_setuptools_and_copied_into_the_image():
    """pyproject.toml's package list is explicit, and the Dockerfile copies each top-level
    package by name: a new (sub-)package missing from either works here and breaks there."""
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    packages = {
        name
        for name, path in find_modules(ROOT).items()
        if path.name == "__init__.py" and name.split(".")[0] != TESTS
    }
    assert packages == listed, (
        f"missing: {sorted(packages - listed)}, stale: {sorted(listed - packages)}"
    )
    dockerfile = (ROOT / "Dockerfile").read_text()
    for top in sorted({p.split(".")[0] for p in packages}):
        assert f"COPY {top} ./{top}" in dockerfile, f"the Dockerfile does not copy {top}/"


def test_the_check_finds_a_circle_hidden_in_a_function_and_an_upward_import(tmp_path):
    """The checker itself, on a small hostile tree: both faults are reported with their files."""
    for package, files in {
        "gallery": {
            "a.py": "from gallery import b\n",
            "b.py": "def later():\n    from gallery.a import thing  # hidden in a function\n",
            "people/__init__.py": "",
            "people/c.py": "",
            "d.py": "from gallery.people import c\n",
        },
        "storage": {"root.py": "import handlers.base\nfrom gallery import a\n"},
        "handlers": {"base.py": ""},
        "jobs": {"queue.py": "from storage import root\n"},  # ground uses ground: fine
        "xmlcompat": {"check.py": "from storage import root\n"},  # standalone: not fine
        "mystery": {"x.py": ""},
    }.items():
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
        for name, text in files.items():
            (tmp_path / package / name).parent.mkdir(exist_ok=True)
            (tmp_path / package / name).write_text(text)
    modules, graph = import_graph(tmp_path)
    assert circles(graph) == [["gallery.a", "gallery.b", "gallery.a"]]
    problems = "\n".join(layer_problems(modules, graph))
    assert "storage/root.py" in problems and "handlers/base.py" in problems
    assert "gallery/a.py" in problems  # storage (ground) may not import gallery either
    assert "gallery/d.py" in problems and "gallery/people/c.py" in problems
    assert "package mystery/ has no place in LAYERS" in problems
    assert "xmlcompat/check.py" in problems and "jobs/queue.py" not in problems


if __name__ == "__main__":
    print(summary())

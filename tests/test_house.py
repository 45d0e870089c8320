"""The house rules, checked on the source: no import cycles, and rules named only in their own homes.

``lint-imports`` (run by ``.ci/run``, contracts in ``pyproject.toml``) checks that layers
import only downward; this adds what it does not: that no two modules import each other,
even through a function-level import, and that no module outside
``optimiser/families/`` tests a constraint family by name (``family == "need_cap"``,
``["family"] == "rule"``, ``.isin(("lock", …))``) — such code asks the family registry.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("commissioning", "optimiser")


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Project modules ``path`` imports anywhere (type-checking-only imports aside)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
            and "TYPE_CHECKING" in ast.unparse(node.test) for n in ast.walk(node)}
    me = _module(path)
    package = me if path.name == "__init__.py" else me.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(up + ([node.module] if node.module else []))
            names = [f"{base}.{a.name}" for a in node.names] + [base]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        out.update(n for n in names if n.split(".")[0] in PACKAGES)
    return out


def _graph() -> dict[str, set[str]]:
    files = {_module(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}
    graph = {}
    for mod, path in files.items():
        graph[mod] = {m for m in _imports(path) if m in files and m != mod}
    return graph


def test_no_module_imports_another_that_imports_it_back():
    graph = _graph()
    cycles, state = [], {}

    def visit(node, stack):
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if nxt in PACKAGES:  # a package's __init__ imports nothing of the project
                continue
            if state.get(nxt) == "open":
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_the_graph_sees_function_level_imports():
    # The check above would prove nothing if it missed imports inside functions.
    graph = _graph()
    assert "optimiser.levels" in graph["commissioning.analysis.compare"]  # imported inside run_one


FAMILY = r"""(?:\.family|\bfamily|\["family"\])"""
FAMILY_TEST = re.compile(FAMILY + r"""\s*(==|!=)\s*["']|""" + FAMILY + r"""\s+(not\s+)?in\s+[\(\[{]\s*["']|"""
                         r"""\["family"\]\.isin\(\s*[\(\[]\s*["']""")


def test_no_family_is_named_outside_its_own_module():
    offenders = []
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            if path.relative_to(ROOT).parts[:2] == ("optimiser", "families"):
                continue
            for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if FAMILY_TEST.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{i}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_the_family_pattern_catches_what_it_should():
    for line in ('if lim.family == "need_cap":', 'cons[cons["family"] == "rule"]', 'if r.family in ("a", "b"):',
                 'registry["family"].isin(("rule", "lock"))'):
        assert FAMILY_TEST.search(line), line
    assert not FAMILY_TEST.search('cons[cons["family"].isin(budget_families())]')
    assert not FAMILY_TEST.search('if how[b.family] == "price"')  # how the family says it is told


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    assert found, f"{name} is not installed: pip install -e '.[test]'"
    return found


def test_layers_import_only_downward():
    """import-linter's contracts (pyproject.toml): cli > writers > analysis > optimiser > inputs > case."""
    res = subprocess.run([_tool("lint-imports"), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]


def test_ruff_finds_nothing():
    res = subprocess.run([_tool("ruff"), "check", "--no-cache", "commissioning", "optimiser", "tests", "benchmarks"],
                         cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]


# The validator checks a rule's scope against a pot's on the rows as read, before a case
# exists to ask (scope_misses): its variable names only look alike.
ELIGIBILITY_READERS = {Path("commissioning/inputs/validate.py")}


def test_eligibility_is_answered_in_one_place():
    """Only the case layer reads a pot's geography and cohorts to say whom it may fund;
    everything else asks ``case.eligibility``."""
    offenders = []
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            rel = path.relative_to(ROOT)
            if rel.parts[:2] == ("commissioning", "case") or rel in ELIGIBILITY_READERS:
                continue
            for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if re.search(r"(?<![Ee]ligibility)\.(pot_areas|pot_cohorts|may_fund|eligible_cells)\b", line):
                    offenders.append(f"{rel}:{i}: {line.strip()}")
    assert not offenders, "\n".join(offenders)

"""Imports go one way: leaves (checks, seeding, paths) <- life <- nets <- analysis, toys <- suite
<- cli; stats stands alone. Checked on every import statement, including those inside functions."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "lifetf"
RANK = {"checks": 0, "seeding": 0, "paths": 0, "life": 1, "stats": 1, "nets": 2, "analysis": 3,
        "toys": 3, "suite": 4, "cli": 5, "__init__": 5, "__main__": 6}


def _layer(module: str) -> str:
    return module.split(".")[1] if "." in module else "__init__"


def _imports() -> dict[str, set[str]]:
    """lifetf module -> the lifetf modules it imports."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        targets = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(
                    "lifetf"):
                targets.add(node.module)
            elif isinstance(node, ast.Import):
                targets |= {a.name for a in node.names if a.name.startswith("lifetf")}
        found[name] = targets
    return found


def test_layers_import_only_downwards():
    bad = []
    for module, targets in _imports().items():
        layer = _layer(module)
        for target in targets:
            other = _layer(target)
            if other == layer or target == "lifetf":
                continue
            if layer == "stats" or RANK[other] >= RANK[layer]:
                bad.append(f"{module} imports {target}")
    assert not bad, "\n".join(sorted(bad))


def test_no_import_cycles():
    imports = _imports()
    graph = {m: {t for t in ts if t in imports} for m, ts in imports.items()}
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in graph.get(node, ()):
            if state.get(nxt) == 1:
                raise AssertionError("import cycle: " + " -> ".join(path + [node, nxt]))
            if nxt not in state:
                visit(nxt, path + [node])
        state[node] = 2

    for node in graph:
        if node not in state:
            visit(node, [])

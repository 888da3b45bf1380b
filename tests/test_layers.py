"""The architecture of docs/ARCHITECTURE.md, checked: who may import whom, and no cycles.

Every import counts, also those inside functions (a lazy import still ties two modules).
"""

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Each package may import only from its own layer or a lower one.
LAYERS: dict[str, int] = {
    "extractors": 0, "fetching": 0, "dedup": 0,
    "storage": 1,
    "pipeline": 2,
    "report": 3,
    "flows": 4,
    "deployments": 5,
    "cli": 6,
}
# The three libraries stand alone: none imports another.
LIBRARIES = {"extractors", "fetching", "dedup"}
# Prefect is imported only where flows, tasks and deployments are defined or started.
PREFECT_ALLOWED = {"flows", "deployments", "cli"}


def _modules() -> Iterator[tuple[str, Path]]:
    for package in LAYERS:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            yield name, path


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


MODULES = dict(_modules())
GRAPH = {
    name: {m for m in _imports(path) if m in MODULES and m != name} for name, path in MODULES.items()
}


def test_the_layout_has_its_packages() -> None:
    assert {name.split(".")[0] for name in MODULES} == set(LAYERS)
    assert len([n for n in MODULES if n.startswith("flows.")]) <= 16


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down(module: str) -> None:
    own = module.split(".")[0]
    for target in GRAPH[module]:
        other = target.split(".")[0]
        assert LAYERS[other] <= LAYERS[own], f"{module} imports {target}, a layer above it"
        if own in LIBRARIES and other in LIBRARIES:
            assert other == own, f"library {module} imports library {target}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_prefect_only_in_flows(module: str) -> None:
    if module.split(".")[0] in PREFECT_ALLOWED:
        return
    prefect = {m for m in _imports(MODULES[module]) if m.split(".")[0] in {"prefect", "prefect_dask"}}
    assert not prefect, f"{module} imports {sorted(prefect)}"


def test_no_import_cycle() -> None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(GRAPH[node]):
            if state.get(nxt) == 1:
                cycle = [*path[path.index(nxt) :], nxt]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module)


def test_the_architecture_page_matches_the_code() -> None:
    """docs/ARCHITECTURE.md names every package in layer order, and only paths that exist."""
    page = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    rows = [line.split("|")[1].strip(" `/") for line in page.splitlines() if line.startswith("| `")]
    in_order = [name for name in rows if name in LAYERS]
    assert in_order == sorted(LAYERS, key=lambda n: (LAYERS[n], list(LAYERS).index(n)))
    for path in re.findall(r"`((?:[a-z_]+/)+[a-z_]+\.(?:py|yaml|md))`", page):
        assert (ROOT / path).exists(), f"docs/ARCHITECTURE.md names {path}, which does not exist"
    for name in re.findall(r"`([A-Z][A-Za-z]+|[A-Z_]{4,})`", page):
        assert any(
            name in p.read_text(encoding="utf-8") for p in MODULES.values()
        ), f"docs/ARCHITECTURE.md names {name}, which no module defines"

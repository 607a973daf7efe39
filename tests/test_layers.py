"""The package's shape, checked: the linter passes, lower layers never import higher ones, and no two
modules import each other (directly or round a longer loop), counting imports inside functions and the
``cimport`` lines of ``.pxd`` files, which tie compiled modules together just as firmly."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "asgicy"
# What each layer may import from the package besides itself. The cores know nothing above them; the ASGI
# cycles know the cores' events but nothing of sockets; the leaf modules (the core switch and base, the errors,
# HTTP's grammar, which a WebSocket handshake reads too) are for everyone.
LEAVES = {"asgicy.cores", "asgicy._cores", "asgicy.errors", "asgicy.http.grammar"}
ALLOWED = {
    "asgicy.http": set(),
    "asgicy.ws": set(),
    "asgicy.h2": set(),
    "asgicy.asgi": {"asgicy.http", "asgicy.ws"},
}
_CIMPORT = re.compile(r"^\s*(?:from\s+(\S+)\s+cimport|cimport\s+(\S+))", re.M)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(module: str, level: int, target: str | None, is_package: bool) -> str:
    if not level:
        return target or ""
    base = module.split(".")
    base = base[: len(base) - level + (1 if is_package else 0)]
    return ".".join(base + ([target] if target else []))


def imports_of(path: Path) -> set:
    """Every asgicy module ``path`` imports, wherever the import statement is."""
    name = module_name(path)
    is_package = path.name.startswith("__init__.")
    found = set()
    text = path.read_text()
    if path.suffix == ".pxd":
        for match in _CIMPORT.finditer(text):
            target = match.group(1) or match.group(2)
            level = len(target) - len(target.lstrip("."))
            found.add(_resolve(name, level, target.lstrip(".") or None, is_package))
    else:
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(name, node.level, node.module, is_package)
                found.add(base)
                # `from . import errors` names a module; `from .errors import X` names a module's attribute.
                found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def package_graph() -> dict:
    files = [p for p in PACKAGE.rglob("*") if p.suffix in (".py", ".pyx", ".pxd") and "__pycache__" not in p.parts]
    modules = {module_name(p) for p in files}
    graph: dict = {m: set() for m in modules}
    for path in files:
        if path.suffix == ".pyx":
            continue  # Cython syntax: the cores' extensions import only the standard library and their own
        source = module_name(path)
        for target in imports_of(path):
            if target in modules and target != source:
                graph[source].add(target)
    return graph


def layer_of(module: str) -> str | None:
    for layer in ALLOWED:
        if module == layer or module.startswith(layer + "."):
            return layer
    return None


def test_the_linter_passes():
    # ruff is in the [test] extra: a missing ruff fails here rather than skipping the check.
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "."], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_graph_sees_imports_inside_functions_and_cimports():
    graph = package_graph()
    assert "asgicy.server.wsgi" in graph["asgicy.server.server"]  # a top-level import
    assert "asgicy.errors" in graph["asgicy.proxy"]  # an import inside a function
    assert "asgicy.asgi.http1" in graph["asgicy.server.connection"]  # (and in connection.pxd)
    assert "asgicy.server._coroutines" in graph["asgicy.server.eager"]  # a cimport in eager.pxd


def test_lower_layers_never_import_higher_ones():
    wrong = []
    for source, targets in package_graph().items():
        layer = layer_of(source)
        if layer is None:
            continue
        for target in targets:
            if target in LEAVES or layer_of(target) == layer or layer_of(target) in ALLOWED[layer]:
                continue
            wrong.append(f"{source} imports {target}")
    assert wrong == []


def test_no_import_cycle():
    graph = package_graph()
    # Tarjan's strongly connected components: a component of more than one module is a cycle.
    index: dict = {}
    low: dict = {}
    stack: list = []
    on_stack: set = set()
    cycles = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    assert cycles == []

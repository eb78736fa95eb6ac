"""Imports inside skseg run one way, bottom to top, with no cycle.

Every ``import`` in ``skseg/`` is read (including imports inside functions,
which a cycle can hide behind) and checked against the layers below, which
``docs/architecture.rst`` draws. A module may import only modules of a
lower rank; modules of the same rank may not import each other.
"""

import ast
from pathlib import Path

import pytest

import skseg

PACKAGE = Path(skseg.__file__).parent

#: (rank, modules), bottom to top. Ranks are compared as tuples: the palette
#: engine's stages are ordered among themselves inside layer 3.
LAYERS = [
    ((0,), ["skseg._jit", "skseg._parallel"]),
    ((1,), ["skseg._glue"]),  # scikit-learn glue: outputs, set_output, dask hook
    ((2,), ["skseg._batch"]),  # the image-batch contract
    ((3, 0), ["skseg._engine", "skseg._engine.distances"]),
    ((3, 1), ["skseg._engine.tables"]),
    ((3, 2), ["skseg._engine.coresets"]),
    ((3, 3), ["skseg._engine.lloyd"]),
    ((3, 4), ["skseg._engine.hamerly"]),
    ((3, 5), ["skseg._engine.strategy"]),
    ((3, 6), ["skseg._engine.floatpath", "skseg._engine.assign"]),
    ((3, 7), ["skseg._engine.stream"]),
    # leaf engines
    ((3, 0), ["skseg._canny", "skseg._colorconv", "skseg._scores"]),
    ((3, 0), ["skseg._slic", "skseg._regions"]),
    ((4, 0), ["skseg.color", "skseg.edges", "skseg.segmentation"]),
    ((4, 0), ["skseg.superpixels"]),
    # plotting sits with the estimators: ElbowKSelector.plot draws through it
    ((4, 1), ["skseg.plotting"]),
    ((4, 2), ["skseg.model_selection"]),
    ((4, 3), ["skseg.metrics"]),
    ((5, 0), ["skseg.datasets", "skseg._dask"]),
    ((5, 1), ["skseg._warmup"]),
    ((5, 2), ["skseg.cli"]),
    ((6,), ["skseg", "skseg.__main__"]),
]
RANK = {module: rank for rank, modules in LAYERS for module in modules}


def module_name(path, root=PACKAGE):
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path, root=PACKAGE):
    """skseg modules imported anywhere in the file at ``path``."""
    name = module_name(path, root)
    is_package = path.name == "__init__.py"
    package = name if is_package else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module
            found.add(module)
            # ``from . import _glue`` imports a module, not a name
            found.update(f"{module}.{a.name}" for a in node.names)
    top = root.name
    return {m for m in found if m == top or m.startswith(top + ".")}


def import_graph(root=PACKAGE):
    """``{module: set of skseg modules it imports}`` for every file."""
    modules = {module_name(p, root): p for p in root.rglob("*.py")}
    return {
        name: {m for m in imports_of(path, root) if m in modules and m != name}
        for name, path in modules.items()
    }


def find_cycle(graph):
    """One import cycle as a list of modules, or None."""
    state = {}
    stack = []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def upward_imports(graph, rank=RANK):
    """Imports that do not run strictly down the layers."""
    return sorted(
        (a, b) for a, targets in graph.items() for b in targets if rank[b] >= rank[a]
    )


def test_every_module_has_a_layer():
    assert sorted(set(import_graph()) - set(RANK)) == []
    assert sorted(set(RANK) - set(import_graph())) == []


def test_no_import_cycle():
    assert find_cycle(import_graph()) is None


def test_imports_run_down_the_layers():
    assert upward_imports(import_graph()) == []


def test_the_dask_adapter_imports_no_estimator():
    estimators = {"skseg.color", "skseg.edges", "skseg.segmentation"}
    estimators |= {"skseg.model_selection", "skseg.metrics", "skseg.superpixels"}
    assert import_graph()["skseg._dask"] & estimators == set()


@pytest.mark.parametrize(
    "planted, expected",
    [
        # the cycle issue 16 found: _batch -> _dask -> segmentation -> _batch
        ({"skseg._batch": {"skseg._dask"}}, "cycle"),
        # an engine stage importing the stage above it: a cycle too
        ({"skseg._engine.hamerly": {"skseg._engine.strategy"}}, "cycle"),
        # the contract importing an adapter (no cycle, but upward)
        ({"skseg._batch": {"skseg.datasets"}}, "upward"),
        # the contract importing the threads module is fine
        ({"skseg._batch": {"skseg._parallel"}}, None),
    ],
)
def test_the_checks_fail_on_planted_imports(planted, expected):
    graph = {k: set(v) for k, v in import_graph().items()}
    for module, targets in planted.items():
        graph[module] |= targets
    assert (find_cycle(graph) is not None) == (expected == "cycle")
    assert bool(upward_imports(graph)) == (expected is not None)


def test_the_reader_sees_imports_inside_functions(tmp_path):
    pkg = tmp_path / "skseg"
    (pkg / "_engine").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "_engine" / "__init__.py").write_text("")
    (pkg / "_engine" / "a.py").write_text(
        "def f():\n    from ..segmentation import X\n    from . import b\n"
    )
    found = imports_of(pkg / "_engine" / "a.py", pkg)
    assert {"skseg.segmentation", "skseg._engine.b"} <= found

"""The package's layers import downwards only (DESIGN.md), checked statically over every import, lazy ones included."""

import ast
from pathlib import Path

import neurofocus

PACKAGE = Path(neurofocus.__file__).parent

#: DESIGN.md's order, lowest first: a module may import its own layer and the layers below. The small helpers
#: (errors, strict config dicts, colours, image filters, atomic output, progress, image files, the shipped-weights
#: store, the compiled C kernels) form the base layer.
LAYERS = (
    {"types", "errors", "config_dicts", "color", "filters", "spike_bits", "atomic", "progress", "images", "weights",
     "_kernels"},
    {"io", "represent"},
    {"simulate", "calib", "metrics"},
    {"datasets"},
    {"models"},
    {"aif"},
    {"train"},
    {"bench", "viz", "demo"},
    {"cli"},
)
LAYER_OF = {name: level for level, names in enumerate(LAYERS) for name in names}


def _imports(path: Path):
    """(line, imported top-level neurofocus name, imported names) of every ``neurofocus`` import in a module."""
    module = path.relative_to(PACKAGE.parent).with_suffix("").parts
    package = module[:-1]  # the package a relative import starts from (also for an __init__)
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(package[:len(package) - node.level + 1]) + (node.module.split(".") if node.module else [])
            elif node.module and node.module.split(".")[0] == "neurofocus":
                base = node.module.split(".")
            else:
                continue
            names = [alias.name for alias in node.names]
            if len(base) == 1:  # ``from .. import x``: x is the top-level name
                for name in names:
                    yield node.lineno, name, []
            else:
                yield node.lineno, base[1], names
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "neurofocus" and len(parts) > 1:
                    yield node.lineno, parts[1], []


def _violations():
    upward, private = [], []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        own = parts[0]
        if own in ("__init__", "__main__"):
            continue
        for line, target, names in _imports(path):
            if target == own or target not in LAYER_OF:
                continue
            where = f"{path.relative_to(PACKAGE)}:{line}"
            if LAYER_OF[target] > LAYER_OF[own]:
                upward.append(f"{where} ({own}) imports {target}")
            private += [f"{where} imports {target}.{n}" for n in names if n.startswith("_") and not n.startswith("__")]
    return upward, private


def test_every_top_level_module_has_a_layer():
    names = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()
             if (p.suffix == ".py" or (p.is_dir() and (p / "__init__.py").is_file())) and p.stem not in
             ("__init__", "__main__")}
    assert names - set(LAYER_OF) == set()


def test_no_module_imports_a_higher_layer_or_a_private_name_of_another_package():
    upward, private = _violations()
    assert upward == []
    assert private == []


def _module_graph() -> dict[str, set[str]]:
    """Module name → the package's modules it imports (a ``from pkg import name`` counts as ``pkg.name`` when that
    is a module, else as ``pkg``)."""
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = (path, parts[:-1])
    graph = {}
    for name, (path, package) in modules.items():
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("neurofocus")):
                base = (package[:len(package) - node.level + 1] if node.level else []) + (
                    node.module.split(".") if node.module else [])
                for alias in node.names:
                    full = ".".join([*base, alias.name])
                    targets.add(full if full in modules else ".".join(base))
            elif isinstance(node, ast.Import):
                targets.update(a.name for a in node.names if a.name in modules)
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def test_no_module_import_cycles():
    graph = _module_graph()
    assert len(graph) > 50 and "neurofocus.aif.weights" in graph["neurofocus.aif.pipeline"]
    cycles = []
    for start in sorted(graph):  # a module that reaches itself through the modules it imports
        seen, todo = set(), list(graph[start])
        while todo:
            module = todo.pop()
            if module == start:
                cycles.append(start)
                break
            if module not in seen:
                seen.add(module)
                todo.extend(graph[module])
    assert cycles == []

"""The package's structure: no import cycle between its modules (function-level imports
included) and no private name used outside the module that defines it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "skillinfer_bayes"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, ast.Module]:
    return {module_name(p): ast.parse(p.read_text()) for p in sorted(PACKAGE.rglob("*.py"))}


def imports(tree: ast.Module, name: str, known: set[str],
            type_checking: bool = False) -> list[tuple[str, str | None]]:
    """(module imported, name imported from it or None) for every import of the package,
    at any depth (function-level imports count); those under ``if TYPE_CHECKING`` only with
    ``type_checking``."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if not type_checking and isinstance(node, ast.If) and \
                "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for n in ast.walk(node))
    found = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] != "skillinfer_bayes":
                continue
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                if full in known:  # "from skillinfer_bayes import storage"
                    found.append((full, None))
                else:
                    found.append((node.module, alias.name))
        elif isinstance(node, ast.Import):
            found += [(a.name, None) for a in node.names
                      if a.name.split(".")[0] == "skillinfer_bayes"]
    return [(m, n) for m, n in found if m != name]


def test_no_import_cycles_between_modules():
    trees = modules()
    known = set(trees)
    graph = {
        name: {m for m, _ in imports(tree, name, known) if m in known and m != "skillinfer_bayes"}
        for name, tree in trees.items() if name != "skillinfer_bayes"
    }
    cycles = []

    def visit(node, path):
        for nxt in sorted(graph.get(node, ())):
            if nxt in path:
                cycles.append(path[path.index(nxt):] + [nxt])
            elif len(path) < len(graph):
                visit(nxt, path + [nxt])

    for start in sorted(graph):
        visit(start, [start])
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles[:10])


def private_names_defined(tree: ast.Module) -> set[str]:
    """Private names a module defines: its functions, classes and attributes it assigns (an
    object's private attribute may be used anywhere in the module that defines it)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return {n for n in names if n.startswith("_")}


#: A named tuple's public methods (the underscore keeps them apart from its fields), e.g.
#: ``state._replace(...)`` on numpyro's sampler states.
NAMEDTUPLE_METHODS = {"_replace", "_asdict", "_fields", "_make", "_field_defaults"}
#: Public functions of the standard library whose names start with an underscore
#: (``os._exit``: the command's exit without interpreter teardown, ``cli.run``).
PUBLIC_UNDERSCORED = {"_exit"}


def test_no_private_name_is_used_outside_its_module():
    trees = modules()
    known = set(trees)
    misuse = []
    for name, tree in trees.items():
        for module, imported in imports(tree, name, known):
            if imported is not None and imported.startswith("_") and not imported.startswith(
                "__"
            ):
                misuse.append(f"{name} imports {module}.{imported}")
        defined = private_names_defined(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr.startswith("_") and (
                not node.attr.startswith("__") and node.attr not in defined
                and node.attr not in NAMEDTUPLE_METHODS and node.attr not in PUBLIC_UNDERSCORED
            ):
                misuse.append(f"{name}: {ast.unparse(node)}")
    assert not misuse, "\n".join(misuse)


#: The layers, lowest first: a module may import modules of its own layer or below only.
#: ``plots`` draws from arrays, frames and populations, below the studies whose results
#: delegate their ``plot`` methods to it.
LAYERS = ("data", "models", "inference", "predictive", "population", "plots", "studies",
          "output")


def layer(module: str) -> str:
    """The layer of a package module: its subpackage, or the top-level module's role."""
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in LAYERS:
        return parts[1]
    if len(parts) > 1 and parts[1] in ("datasets", "_version", "banners"):
        return "data"
    if len(parts) > 1 and parts[1] in ("population", "plots"):
        return parts[1]
    return "output"  # the package itself, cli, __main__


def test_modules_import_only_their_layer_or_below():
    # type hints included: a lower layer annotates with a protocol (predictive.types), it
    # does not import the layer above even for typing
    trees = modules()
    known = set(trees)
    upward = []
    for name, tree in trees.items():
        for module, _ in imports(tree, name, known, type_checking=True):
            if module in known and LAYERS.index(layer(module)) > LAYERS.index(layer(name)):
                upward.append(f"{name} ({layer(name)}) imports {module} ({layer(module)})")
    assert not upward, "\n".join(upward)


def test_the_folders_are_the_layers():
    folders = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert folders == {"data", "models", "inference", "predictive", "studies", "datasets"}
    top = {p.stem for p in PACKAGE.glob("*.py")}
    # banners: the warning filters the package sets before it imports anything else
    assert top == {"__init__", "__main__", "_version", "banners", "population", "plots", "cli",
                   "cli_options", "cli_process"}


def test_the_design_documents_module_table_lists_exactly_the_modules():
    # docs/design.md's Layout table names every module of the package, and no other
    table = (PACKAGE.parent / "docs" / "design.md").read_text().split("## Layout", 1)[1]
    table = table.split("\n## ", 1)[0]
    named = set()
    for cell in re.findall(r"^\| [a-z]+ \| ([^|]+) \|", table, flags=re.MULTILINE):
        for path in re.findall(r"`([\w/]+(?:\.py|/))`", cell):
            named.add(path)
    files = {str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
             if p.name != "__init__.py" and "datasets" not in p.parts}
    files |= {"datasets/"}
    missing = sorted(files - named)
    stale = sorted(named - files)
    assert not missing and not stale, f"not in docs/design.md: {missing}; gone: {stale}"

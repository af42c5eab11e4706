"""Imports run one way: monitors -> triage, rotation, core; triage -> rotation, core;
rotation -> core; the core (vigie/) imports no app. A lower app gets what a higher one adds
through a registry filled in the higher app's AppConfig.ready().

Every module of the four packages is parsed (ast): `import`/`from ... import` statements
anywhere (inside functions too), and the string references `apps.get_model("app.Model")`,
`apps.get_model("app", "Model")` and `import_string("app.module.name")`. Tests and migrations
are left out, and so are the project's settings and URLs, which list the apps by design.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("vigie", "rotation", "triage", "monitors")
ALLOWED = {
    "monitors": {"triage", "rotation", "vigie"},
    "triage": {"rotation", "vigie"},
    "rotation": {"vigie"},
    "vigie": set(),
}
# The project's wiring lists every app; it is the one place allowed to.
EXCEPTIONS = {"vigie/settings.py", "vigie/urls.py"}


# Known violations, (module, imported package). Each is removed by the branch that fixes it;
# an entry that no longer matches an import fails the test, so the list only shrinks.
def _modules():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            parts = path.relative_to(ROOT).parts
            if "tests" in parts or "migrations" in parts or relative in EXCEPTIONS:
                continue
            yield relative, path


def _module_name(relative):
    name = relative.removesuffix(".py").replace("/", ".")
    return name.removesuffix(".__init__")


def _string_arg(call, index=0):
    if len(call.args) > index:
        arg = call.args[index]
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            return arg.value
    return None


def _call_name(call):
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


def imported_names(source, module="", is_package=False):
    """Every dotted name `source` imports or references by string."""
    package = module if is_package else module.rpartition(".")[0]
    names = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            names.append(base)
        elif isinstance(node, ast.Call):
            name = _call_name(node)
            first = _string_arg(node)
            if first is None:
                continue
            if name == "get_model":
                names.append(first.partition(".")[0])
            elif name == "import_string":
                names.append(first)
    return names


def edges():
    """(module path, imported package) for every import between two of the four packages."""
    found = set()
    for relative, path in _modules():
        own = relative.split("/")[0]
        names = imported_names(path.read_text(), _module_name(relative), path.name == "__init__.py")
        for name in names:
            target = name.split(".")[0]
            if target in PACKAGES and target != own:
                found.add((relative, target))
    return found


def test_the_collector_sees_every_kind_of_import():
    source = """
import rotation.models
from triage import services
from .sibling import x


def later():
    from monitors.models import Check
    apps.get_model("monitors.Check")
    apps.get_model("rotation", "Shift")
    import_string("monitors.tasks.run")
"""
    assert sorted(imported_names(source, "vigie.views")) == [
        "monitors",  # get_model("monitors.Check")
        "monitors.models",
        "monitors.tasks.run",
        "rotation",  # get_model("rotation", "Shift")
        "rotation.models",
        "triage",
        "vigie.sibling",
    ]


def test_imports_run_one_way():
    found = edges()
    broken = sorted(
        (module, target) for module, target in found if target not in ALLOWED[module.split("/")[0]]
    )
    assert broken == [], f"imports against the direction: {broken}"

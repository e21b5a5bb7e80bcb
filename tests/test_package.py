"""The package's public surface and packaging facts."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import layers_async


def test_all_names_exist() -> None:
    """Every name in `layers_async.__all__` exists (its order is pinned in test_exports.py)."""
    for name in layers_async.__all__:
        assert hasattr(layers_async, name), name


def test_exports_report_the_public_module() -> None:
    """Exported classes show `layers_async` as their module, so tracebacks name public paths."""
    for name in layers_async.__all__:
        obj = getattr(layers_async, name)
        if isinstance(obj, type):
            assert obj.__module__ == "layers_async", name


def test_py_typed_marker_ships() -> None:
    """The package carries `py.typed` so users' type checkers read its annotations."""
    assert (Path(layers_async.__file__).parent / "py.typed").is_file()


def test_console_script_lists_commands() -> None:
    """`layers-async --help` names the sandbox command and exits 0; no command exits 2."""
    ok = _python("-m", "layers_async", "--help", check=False)
    assert ok.returncode == 0
    assert "sandbox" in ok.stdout
    bad = _python("-m", "layers_async", "frobnicate", check=False)
    assert bad.returncode == 2
    assert "invalid choice" in bad.stderr


def _python(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run `python <args>` in a fresh interpreter (nothing imported yet), output as text."""
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, check=check, timeout=60
    )


HEAVY = ("aiohttp.web", "layers_async.sandbox")


def test_import_loads_neither_the_sandbox_nor_aiohttp_web() -> None:
    """`import layers_async` leaves the sandbox and aiohttp's server unimported (light import)."""
    out = _python(
        "-c", f"import sys, layers_async\nprint(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    )
    assert out.stdout.strip() == "[]"


def test_sandbox_resolves_lazily_from_the_root() -> None:
    """`layers_async.Sandbox` and `SandboxConfigError` load on first use, public path intact."""
    out = _python(
        "-c",
        "import sys, layers_async\n"
        "assert 'Sandbox' in dir(layers_async) and 'SandboxConfigError' in dir(layers_async)\n"
        "assert 'layers_async.sandbox' not in sys.modules\n"
        "from layers_async import SandboxConfigError\n"
        "from layers_async.sandbox import Sandbox\n"
        "assert layers_async.Sandbox is Sandbox\n"
        "print(Sandbox.__module__, SandboxConfigError.__module__)",
    )
    assert out.stdout.split() == ["layers_async", "layers_async"]
    with pytest.raises(AttributeError, match="no attribute 'Sandboxx'"):
        _ = layers_async.Sandboxx  # type: ignore[attr-defined]


def test_the_pytest_plugin_imports_without_the_sandbox() -> None:
    """Loading `layers_async.testing` (every pytest run does) does not import the sandbox."""
    out = _python(
        "-c",
        "import sys, layers_async.testing\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))",
    )
    assert out.stdout.strip() == "[]"


PACKAGE = Path(layers_async.__file__).parent
#: The wings that must use the SDK as its users do: the command line and the flows.
WINGS = [*sorted((PACKAGE / "cli").glob("*.py")), PACKAGE / "flows.py"]


def _module_name(path: Path) -> tuple[str, str]:
    """The dotted name of the module at `path` and of the package its relative imports use."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    if parts[-1] == "__init__":
        name = ".".join(parts[:-1])
        return name, name
    name = ".".join(parts)
    return name, name.rpartition(".")[0]


def _private_imports(text: str, module: str, package: str) -> list[str]:
    """`from <package module> import _name` and imports of a private module as a name."""
    found = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ImportFrom):
            source = node.module or ""
            if node.level:
                base = package.split(".")
                source = ".".join([*base[: len(base) - node.level + 1], *filter(None, [source])])
            if source == module or source.split(".")[0] != "layers_async":
                continue
            found += [
                f"{source}.{a.name}"
                for a in node.names
                if a.name.startswith("_") and not a.name.startswith("__")
            ]
        elif isinstance(node, ast.Import):
            found += [
                a.name
                for a in node.names
                if a.name.split(".")[0] == "layers_async"
                and any(p.startswith("_") and not p.startswith("__") for p in a.name.split("."))
            ]
    return found


@pytest.mark.parametrize("path", WINGS, ids=[p.name for p in WINGS])
def test_wings_import_no_private_name_of_the_package(path: Path) -> None:
    """cli/ and flows.py import no `_name` (nor a private module as a name) from the package."""
    assert _private_imports(path.read_text(), *_module_name(path)) == []


def test_the_private_import_check_catches_what_it_should() -> None:
    """The check flags `_fields`, `from . import _x` and `import layers_async._x`, no more."""
    source = (
        "from ..resources.projects import _fields, Projects\n"
        "from .. import LayersClient\n"
        "from . import _arguments\n"
        "import layers_async._client\n"
        "import argparse, layers_async.flows\n"
        "from argparse import _SubParsersAction\n"
        "from layers_async.sandbox.__main__ import main\n"
    )
    found = _private_imports(source, "layers_async.cli.probe", "layers_async.cli")
    assert found == [
        "layers_async.resources.projects._fields",
        "layers_async.cli._arguments",
        "layers_async._client",
    ]

"""The package's public surface and packaging facts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import layers_async


def test_all_is_sorted_and_complete() -> None:
    """`layers_async.__all__` is sorted and every name in it exists."""
    names = [n for n in layers_async.__all__ if n != "__version__"]
    assert names == sorted(names)
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
    ok = subprocess.run(
        [sys.executable, "-m", "layers_async", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0
    assert "sandbox" in ok.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "layers_async", "frobnicate"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2
    assert "invalid choice" in bad.stderr

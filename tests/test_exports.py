"""The public surface: one sorted `__all__` that lists exactly the public names of the package
root, each class rewritten to `layers_async`, each documented."""

from __future__ import annotations
import __future__

import inspect
import types

import pytest

import layers_async


def _public_names() -> set[str]:
    """Names bound at the root that are not modules and not private (`__version__` excepted)."""
    names = set()
    for name in dir(layers_async):
        obj = getattr(layers_async, name)
        if isinstance(obj, types.ModuleType):
            continue  # submodules (sandbox, models, ...) and imported modules (attrs)
        if isinstance(obj, __future__._Feature):
            continue  # `from __future__ import annotations` binds `annotations`
        if name.startswith("_") and name != "__version__":
            continue
        names.add(name)
    return names


def _ruff_order(name: str) -> tuple[int, str]:
    """The order ruff's RUF022 keeps `__all__` in: constants, then classes, then the rest."""
    if name.upper() == name and any(c.isalpha() for c in name):
        return (0, name)
    return (1 if name[0].isupper() else 2, name)


def test_all_is_sorted() -> None:
    """`__all__` is in RUF022 order (constants, classes, the rest) and has no duplicates."""
    exported = list(layers_async.__all__)
    assert exported == sorted(exported, key=_ruff_order)
    assert len(exported) == len(set(exported))


def test_all_equals_the_public_names_of_the_root() -> None:
    """Every public root name is in `__all__`, and every `__all__` entry exists at the root."""
    assert set(layers_async.__all__) == _public_names()


def test_star_import_gives_exactly_all() -> None:
    """`from layers_async import *` binds exactly `__all__`."""
    namespace: dict[str, object] = {}
    exec("from layers_async import *", namespace)
    namespace.pop("__builtins__")
    assert set(namespace) == set(layers_async.__all__)


def test_version_is_a_string() -> None:
    """`__version__` is exported and non-empty."""
    assert isinstance(layers_async.__version__, str)
    assert layers_async.__version__


EXPORTED = [(name, getattr(layers_async, name)) for name in layers_async.__all__]
CLASSES = [(n, o) for n, o in EXPORTED if inspect.isclass(o)]
CALLABLES = [(n, o) for n, o in EXPORTED if inspect.isclass(o) or inspect.isfunction(o)]


@pytest.mark.parametrize(("name", "obj"), CLASSES, ids=[n for n, _ in CLASSES])
def test_exported_classes_report_the_public_module(name: str, obj: type) -> None:
    """Each exported class has `__module__ == "layers_async"` and its own name."""
    assert obj.__module__ == "layers_async"
    assert obj.__name__ == name
    assert obj.__qualname__ == name


@pytest.mark.parametrize(("name", "obj"), CALLABLES, ids=[n for n, _ in CALLABLES])
def test_exported_classes_and_functions_have_docstrings(name: str, obj: object) -> None:
    """Each exported class and function carries its own docstring."""
    doc = obj.__dict__.get("__doc__") if inspect.isclass(obj) else inspect.getdoc(obj)
    assert isinstance(doc, str), name
    assert doc.strip(), name


def test_package_has_a_docstring() -> None:
    """The package root documents itself."""
    assert (layers_async.__doc__ or "").strip()

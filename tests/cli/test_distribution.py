"""The source distribution: its license, its contents and the description PyPI shows."""

from __future__ import annotations

import email
import re
import tarfile
from collections.abc import Iterator
from email.message import Message
from pathlib import Path

import pytest
from hatchling.builders.sdist import SdistBuilder

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def sdist(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tarfile.TarFile]:
    """The sdist of this tree, built in process by the project's own build backend."""
    out = tmp_path_factory.mktemp("dist")
    built = list(SdistBuilder(str(ROOT)).build(directory=str(out), versions=["standard"]))
    with tarfile.open(built[0]) as tar:
        yield tar


def _names(sdist: tarfile.TarFile) -> set[str]:
    """The sdist's file names, without the `name-version/` folder they sit in."""
    return {m.name.split("/", 1)[1] for m in sdist.getmembers() if "/" in m.name}


def _pkg_info(sdist: tarfile.TarFile) -> Message:
    member = next(
        m for m in sdist.getmembers() if m.name.count("/") == 1 and m.name.endswith("/PKG-INFO")
    )
    fh = sdist.extractfile(member)
    assert fh is not None
    return email.message_from_bytes(fh.read())


def test_the_license_file_is_mit_and_ships_with_the_metadata(sdist: tarfile.TarFile) -> None:
    """LICENSE holds the MIT text with the copyright line; the metadata names it and MIT."""
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License\n\nCopyright (c) 2026 layers_async developers\n")
    assert "Permission is hereby granted, free of charge" in text
    info = _pkg_info(sdist)
    assert info["License-Expression"] == "MIT"
    assert info["License-File"] == "LICENSE"
    assert "LICENSE" in _names(sdist)


def test_the_sdist_holds_the_examples_and_what_their_tests_need(sdist: tarfile.TarFile) -> None:
    """examples/, their tests, the shared conftest and pytest's configuration are in the sdist."""
    names = _names(sdist)
    examples = {p.relative_to(ROOT).as_posix() for p in (ROOT / "examples").glob("*.py")}
    assert examples
    assert examples <= names
    needed = {"tests/examples/test_examples.py", "tests/conftest.py", "pyproject.toml"}
    assert needed <= names


def test_the_pypi_description_has_no_repository_links_nor_clone_commands(
    sdist: tarfile.TarFile,
) -> None:
    """The long description installs with pip, keeps no relative link, no `.venv` of a clone."""
    info = _pkg_info(sdist)
    assert info["Description-Content-Type"] == "text/markdown"
    body = info.get_payload()
    assert isinstance(body, str)
    assert body.startswith("# layers_async\n")
    assert "pip install 'layers-async[cli,speedups]'" in body
    for clone_only in ("fresh clone", ".venv", "pip install -e", "## Development"):
        assert clone_only not in body
    targets = re.findall(r"\]\(([^)]*)\)", body)
    assert all(re.match(r"https?://", t) for t in targets), targets
    # the README's user sections are all there
    readme = (ROOT / "README.md").read_text()
    shown = readme.split("## Using the SDK", 1)[1].split("## Development", 1)[0]
    headings = re.findall(r"^## .+$", "## Using the SDK" + shown, re.M)
    assert len(headings) >= 5
    for heading in headings:
        assert f"\n{heading}\n" in body

"""The public API type-checks from the user's side (DESIGN §5.7): `mypy --strict` over the
never-executed `tests/typing/api.py`."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
API_FILE = REPO_ROOT / "tests" / "typing" / "api.py"


@pytest.mark.skipif(
    importlib.util.find_spec("mypy") is None,
    reason="mypy is not installed (pip install -e '.[dev]'): cannot check tests/typing/api.py",
)
@pytest.mark.timeout(600)
def test_public_api_passes_mypy_strict() -> None:
    """`mypy --strict tests/typing/api.py` exits 0: every public call types as a user expects."""
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", str(API_FILE)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr

"""README.md works as written: every Python block passes ruff and `mypy --strict`, the runnable
ones run against the embedded sandbox, the shell walk-through with `sandbox.json` works, and the
reference parts (anchors, onboarding columns, `/_sandbox/state`) match the code."""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
import shutil
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, get_args

import pytest

from layers_async import BrandVoice, Platform, Sandbox, TargetGender
from layers_async.cli.rows import COLUMNS

REPO_ROOT = Path(__file__).resolve().parent.parent
README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
#: Every fenced block of the README: (language, text), in order.
BLOCKS = [
    (m.group(1), m.group(2))
    for m in re.finditer(r"^```(\w*)\n(.*?)^```$", README, flags=re.MULTILINE | re.DOTALL)
]
PYTHON = [text for lang, text in BLOCKS if lang == "python"]
RUNNABLE = [text for text in PYTHON if text.rstrip().endswith("asyncio.run(main())")]
#: The port the README's shell examples use; tests run the sandbox on a free one instead.
README_URL = "http://127.0.0.1:8787"


def _section(heading: str) -> str:
    """The README text under `heading` (a whole heading line), up to the next heading."""
    start = README.index(f"\n{heading}\n") + len(heading) + 2
    end = re.search(r"^#{1,6} ", README[start:], flags=re.MULTILINE)
    return README[start : start + end.start()] if end else README[start:]


def _write_blocks(directory: Path) -> list[Path]:
    paths = []
    for index, text in enumerate(PYTHON):
        path = directory / f"readme_block_{index}.py"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def _tool(module: str, *args: str, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def _run_script(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, check=False, timeout=60
    )


# --- the two commands first, and the blocks -------------------------------------------------------
def test_readme_starts_with_the_install_and_demo_then_test_commands() -> None:
    """The first two blocks are the newcomer's commands: install + demo, then install + tests."""
    (lang1, demo), (lang2, tests) = BLOCKS[:2]
    assert (lang1, lang2) == ("sh", "sh")
    assert "pip install -e '.[cli" in demo
    assert demo.rstrip().endswith("layers-async demo")
    assert "pip install -e '.[test" in tests
    assert tests.rstrip().endswith("-m pytest")


def test_readme_has_python_blocks_and_no_stale_promises() -> None:
    """No block sleeps instead of waiting, and no "later release" promise is left."""
    assert len(PYTHON) >= 6
    assert "later release" not in README
    for text in PYTHON:
        assert "asyncio.sleep(" not in text


def test_waiters_are_documented_in_one_style_methods() -> None:
    """Python blocks call the waiters as client methods, never as `wait_for_x(client, ...)`."""
    calls = [c for text in PYTHON for c in re.findall(r"(\S*)wait_for_\w+\(", text)]
    assert calls
    assert all(prefix.endswith("client.") for prefix in calls), calls


@pytest.mark.skipif(importlib.util.find_spec("ruff") is None, reason="ruff is not installed")
def test_every_python_block_passes_ruff(tmp_path: Path) -> None:
    """`ruff check` with the project's configuration finds nothing in any README Python block."""
    _write_blocks(tmp_path)
    config = str(REPO_ROOT / "pyproject.toml")
    proc = _tool("ruff", "check", "--no-cache", "--config", config, str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.skipif(importlib.util.find_spec("mypy") is None, reason="mypy is not installed")
@pytest.mark.timeout(600)
def test_every_python_block_passes_mypy_strict(tmp_path: Path) -> None:
    """`mypy --strict` accepts every README Python block (the fan-out one narrows on `r.ok`)."""
    paths = [str(p) for p in _write_blocks(tmp_path)]
    proc = _tool("mypy", "--strict", "--no-error-summary", *paths)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# --- the runnable blocks --------------------------------------------------------------------------
@pytest.mark.timeout(90)
def test_quickstart_runs_to_a_scheduled_post(tmp_path: Path) -> None:
    """The "Using the SDK" example runs against its embedded sandbox and schedules a post."""
    quickstart = _section("## Using the SDK").split("```python\n", 1)[1].split("```", 1)[0]
    assert "client.content.schedule(" in quickstart
    path = tmp_path / "quickstart.py"
    path.write_text(quickstart, encoding="utf-8")
    proc = _run_script(path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.search(r"^scheduled sp_\S+ for 20\d\d-", proc.stdout, flags=re.MULTILINE), proc.stdout


@pytest.mark.timeout(90)
@pytest.mark.parametrize("index", range(len(RUNNABLE)))
def test_runnable_block_runs(tmp_path: Path, index: int) -> None:
    """Every block ending in `asyncio.run(main())` runs to completion against the sandbox."""
    path = tmp_path / f"block_{index}.py"
    path.write_text(RUNNABLE[index], encoding="utf-8")
    proc = _run_script(path)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.timeout(120)
def test_testing_block_passes_under_pytest(tmp_path: Path) -> None:
    """The "Testing with the sandbox" example is a passing test with the installed plugin."""
    block = _section("## Testing with the sandbox").split("```python\n", 1)[1].split("```", 1)[0]
    (tmp_path / "test_from_readme.py").write_text(block, encoding="utf-8")
    proc = _tool("pytest", "-q", "-p", "no:cacheprovider", "test_from_readme.py", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 passed" in proc.stdout


def _block_under(heading: str, needle: str) -> dict[str, Any]:
    """Execute the Python block under `heading` that contains `needle`; return its globals."""
    text = _section(heading)
    block = next(b for b in text.split("```python\n")[1:] if needle in b.split("```")[0])
    namespace: dict[str, Any] = {}
    exec(compile(block.split("```")[0], f"README {heading}", "exec"), namespace)
    return namespace


@pytest.mark.anyio
@pytest.mark.timeout(60)
async def test_error_and_fan_out_blocks_work_against_the_sandbox(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`project_for` adopts on 409 and `onboard_all` onboards its customers, as the README says."""
    project_for = _block_under("## Errors", "async def project_for")["project_for"]
    onboard_all = _block_under("## Waiters and fan-out", "fan_out(")["onboard_all"]
    async with Sandbox(speed=600) as sandbox, sandbox.client() as client:
        first = await project_for(client, "acme-errors")
        again = await project_for(client, "acme-errors")
        assert first is not None
        assert again is not None
        assert again.id == first.id
        capsys.readouterr()
        await onboard_all(client)
    assert re.fullmatch(r"acme-coffee prj_\S+\n", capsys.readouterr().out)


# --- the shell walk-through -----------------------------------------------------------------------
def _shell_line(prefix: str) -> str:
    lines = [line for lang, text in BLOCKS if lang == "sh" for line in text.splitlines()]
    return next(line for line in lines if line.startswith(prefix))


def _shell_block(needle: str) -> str:
    return next(text for lang, text in BLOCKS if lang == "sh" and needle in text)


def _bash(script: str) -> str:
    proc = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, check=False, timeout=30
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@pytest.mark.timeout(60)
@pytest.mark.skipif(shutil.which("curl") is None, reason="the README's examples use curl")
def test_sandbox_json_walkthrough_works_as_written(tmp_path: Path) -> None:
    """`--config sandbox.json` starts the sandbox with that file; `$KEY` from it authenticates."""
    config = next(text for lang, text in BLOCKS if lang == "json")
    (tmp_path / "sandbox.json").write_text(config, encoding="utf-8")
    argv = shlex.split(_shell_line(".venv/bin/python -m layers_async.sandbox"))
    assert argv[argv.index("--config") + 1] == "sandbox.json"
    argv[0] = sys.executable
    argv[argv.index("--port") + 1] = "0"  # the documented "any free port"
    with subprocess.Popen(argv, cwd=tmp_path, stdout=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None
            _check_walkthrough(proc.stdout.readline, config)
        finally:
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=30) == 0


def _check_walkthrough(readline: Callable[[], str], config: str) -> None:
    first = readline()
    url = re.search(r"http://\S+", first)
    assert url is not None, first
    base = url.group(0)
    key = json.loads(config)["apiKeys"][0]["key"]
    assert re.search(rf"^\s+local\s+{key}$", readline()), "the file's key replaces the demo keys"

    whoami = json.loads(_bash(_shell_block("$KEY").replace(README_URL, base)))
    assert whoami["organizationName"] == "Sandbox Partner"
    with urllib.request.urlopen(f"{base}/_sandbox/clock") as resp:
        clock = json.load(resp)
    assert clock["speed"] == 60
    assert clock["now"].startswith("2026-05-14T16:")  # clockStart from the file
    patched = json.loads(_bash(_shell_block("_sandbox/config").replace(README_URL, base)))
    assert patched["faults"][0]["action"] == "http_503"


# --- reference parts ------------------------------------------------------------------------------
def _slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_heading_has_its_own_anchor_and_links_resolve() -> None:
    """No two headings share an anchor, and every `(#anchor)` link names one of them."""
    outside_code = re.sub(r"^```.*?^```$", "", README, flags=re.MULTILINE | re.DOTALL)
    headings = re.findall(r"^#{1,6} (.+)$", outside_code, flags=re.MULTILINE)
    slugs = [_slug(h) for h in headings]
    assert len(slugs) == len(set(slugs)), sorted(s for s in slugs if slugs.count(s) > 1)
    links = re.findall(r"\]\(#([^)]+)\)", outside_code)
    assert links
    assert set(links) <= set(slugs)


def _allowed(column: str, text: str) -> tuple[str, ...]:
    line = re.search(rf"^- `{column}`: (.+?)(;|\.|$)", text, flags=re.MULTILINE)
    assert line is not None, f"no list of allowed values for {column}"
    return tuple(re.findall(r"`([^`]+)`", line.group(1).split("(")[0]))


def test_onboarding_columns_and_their_allowed_values_match_the_code() -> None:
    """The README names every onboarding column and exactly the values `brand_voice` & co take."""
    text = _section("## Onboarding from a file")
    listed = re.search(r"Columns: (.+?);", text, flags=re.DOTALL)
    assert listed is not None
    assert tuple(re.findall(r"`(\w+)`", listed.group(1))) == COLUMNS
    assert _allowed("brand_voice", text) == get_args(BrandVoice)
    assert _allowed("target_gender", text) == get_args(TargetGender)
    assert _allowed("connect", text) == get_args(Platform)


@pytest.mark.anyio
async def test_sandbox_state_row_names_every_key_of_the_answer(sandbox: Sandbox) -> None:
    """The `/_sandbox/state` row lists every top-level key the route answers, `responses` too."""
    row = next(line for line in README.splitlines() if line.startswith("| `GET /_sandbox/state`"))
    documented = re.search(r"`\{([^}]*)\}`", row)
    assert documented is not None
    names = {name.strip() for name in documented.group(1).split(",")}
    assert names == set(await sandbox.state())
    assert "responses.byStatus" in row

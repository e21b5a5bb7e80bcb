"""The `layers-async` command line: --version, a description in every --help, bad values."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from layers_async import __version__
from layers_async.cli import main
from layers_async.cli.onboard import MISSING_KEY


def _exit(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run `main(argv)` where argparse exits; return (status, stdout, stderr)."""
    with pytest.raises(SystemExit) as exited:
        main(argv)
    out, err = capsys.readouterr()
    assert isinstance(exited.value.code, int)
    return exited.value.code, out, err


def test_version_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    """`layers-async --version` prints `layers-async <version>` and exits 0."""
    status, out, _ = _exit(["--version"], capsys)
    assert status == 0
    assert out.strip() == f"layers-async {__version__}"


@pytest.mark.parametrize(
    ("argv", "prog"),
    [
        ([], "layers-async"),
        (["demo"], "layers-async demo"),
        (["onboard"], "layers-async onboard"),
        (["sandbox"], "layers-async sandbox"),
    ],
)
def test_every_help_names_its_command_and_describes_it(
    argv: list[str], prog: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each --help starts `usage: <prog>` and has a description before the options."""
    status, out, _ = _exit([*argv, "--help"], capsys)
    assert status == 0
    assert out.startswith(f"usage: {prog} ")
    description = out.split("\n\n")[1]
    assert not description.startswith(("options:", "positional arguments:")), out
    assert len(description.split()) >= 5, out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["demo", "--speed", "0"], "--speed: must be a positive number"),  # would never finish
        (["demo", "--speed", "-5"], "--speed: must be a positive number"),
        (["demo", "--speed", "nan"], "--speed: must be a positive number"),
        (["demo", "--speed", "inf"], "--speed: must be a positive number"),
        (["demo", "--concurrency", "0"], "--concurrency: must be a positive integer"),
        (["sandbox", "--speed", "-5"], "--speed: must be a number >= 0"),
        (["sandbox", "--speed", "inf"], "--speed: must be a number >= 0"),
        (["sandbox", "--port", "99999"], "--port: must be a port from 0 to 65535"),
        (["sandbox", "--port", "-1"], "--port: must be a port from 0 to 65535"),
        (["onboard", "c.csv", "--state", "s", "--concurrency", "0"], "must be a positive"),
    ],
)
def test_a_wrong_value_is_an_argparse_error_with_status_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A value the command cannot run with is refused by the parser: usage, message, exit 2."""
    status, _, err = _exit(argv, capsys)
    assert status == 2
    assert f"usage: layers-async {argv[0]}" in err
    assert message in err, err
    assert "Traceback" not in err


@pytest.mark.timeout(30)
def test_the_sandbox_command_serves_a_paused_clock_at_speed_0() -> None:
    """`layers-async sandbox --speed 0` is a paused sandbox, not an error; Ctrl-C stops it."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "layers_async", "sandbox", "--speed", "0", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    assert re.match(r"Layers sandbox listening on http://127\.0\.0\.1:\d+$", first), first + err
    assert proc.returncode == 0, err
    assert "Layers sandbox stopped." in out


def test_onboard_without_a_key_tells_a_cli_user_what_to_set(tmp_path: Path) -> None:
    """No LAYERS_API_KEY and no --sandbox: one line naming both, exit 2, no state file made."""
    customers = tmp_path / "c.csv"
    customers.write_text("external_id,name\nacme,Acme\n")
    env = {"PATH": "/usr/bin:/bin"}  # no LAYERS_API_KEY, whatever this machine has
    proc = subprocess.run(
        [sys.executable, "-m", "layers_async", "onboard", str(customers), "--state", "s.jsonl"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == MISSING_KEY
    assert "set LAYERS_API_KEY" in MISSING_KEY
    assert "pass --sandbox" in MISSING_KEY
    assert not (tmp_path / "s.jsonl").exists()

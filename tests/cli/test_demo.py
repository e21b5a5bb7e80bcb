"""`layers-async demo`: runs end to end, plain lines in a pipe, a live display on a terminal."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys

import pytest

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


#: Runs the command line with rich unimportable, as where the `cli` extra is not installed.
WITHOUT_RICH = (
    "import sys; sys.modules['rich'] = None\n"
    "from layers_async.cli import main\n"
    "sys.exit(main(sys.argv[1:]))"
)


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    """Run `python <args>` with its output captured as text (status not checked)."""
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=80, check=False
    )


def _run_in_pty(args: list[str], timeout: float = 60.0) -> tuple[int, str]:
    """Run `python <args>` under a pseudo-terminal; return (status, text)."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: a terminal on stdout, wide enough for the table
        os.environ["COLUMNS"] = "160"
        os.execv(sys.executable, [sys.executable, *args])
    chunks: list[bytes] = []
    while True:
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            break
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), b"".join(chunks).decode(errors="replace")


@pytest.mark.timeout(90)
def test_demo_in_a_pipe_prints_plain_lines() -> None:
    """Without a terminal the demo prints one plain line per customer and exits 0."""
    proc = _run(["-m", "layers_async", "demo", "--customers", "6"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "\x1b[" not in out  # no terminal escapes in a pipe
    assert len(re.findall(r"^\[\s*\d+\.\ds\] \d+/6 demo-\d{4} .*: ok$", out, re.M)) == 6
    assert "customer\tname\tproject\tinfluencer\tcontainer\tscheduled post\ts" in out
    assert (
        len(
            re.findall(r"^demo-\d{4}\t.*\tprj_[0-9a-f-]{36}\tinf_.*\tcnt_.*\tsp_.*\tok$", out, re.M)
        )
        == 6
    )
    assert re.search(r"6 of 6 customers onboarded in [\d.]+ s \| requests \d+ \| retries \d+", out)
    assert re.search(r"\| 429s \d+ \| polls \d+", out)


@pytest.mark.timeout(90)
def test_demo_on_a_terminal_shows_progress_and_table() -> None:
    """On a terminal the demo draws the progress bar, stage counts and a summary table."""
    status, raw = _run_in_pty(["-m", "layers_async", "demo", "--customers", "5"])
    text = ANSI.sub("", raw)
    assert status == 0, text[-2000:]
    assert "onboarding" in text
    assert "5/5" in text
    for stage in ("project", "influencer", "job", "schedule"):
        assert stage in text
    assert "Onboarded customers" in text
    assert "scheduled post" in text
    assert "┃" in text or "│" in text  # drawn as a table, not tab-separated lines
    assert "5 of 5 customers onboarded" in text


def test_demo_rejects_bad_options() -> None:
    """A non-positive customer count is refused by the parser with status 2."""
    proc = _run(["-m", "layers_async", "demo", "--customers", "0"])
    assert proc.returncode == 2
    assert "positive integer" in proc.stderr


def test_demo_on_a_terminal_without_rich_says_to_install_the_cli_extra() -> None:
    """Without rich the live display cannot run: a message names the extra, status 2."""
    status, raw = _run_in_pty(["-c", WITHOUT_RICH, "demo", "--customers", "1"])
    assert status == 2, raw
    assert "pip install 'layers-async[cli]'" in raw
    assert "--plain" in raw
    assert "Layers sandbox on" not in raw  # refused before starting anything


def test_commands_that_do_not_draw_work_without_rich() -> None:
    """Without rich, `--help` and the demo in a pipe (plain lines) still work."""
    for args in (["--help"], ["demo", "--customers", "1"], ["onboard", "--help"]):
        proc = _run(["-c", WITHOUT_RICH, *args])
        assert proc.returncode == 0, (args, proc.stdout + proc.stderr)
        assert "layers-async" in proc.stdout or "1 of 1 customers onboarded" in proc.stdout

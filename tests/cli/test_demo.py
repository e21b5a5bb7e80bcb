"""`layers-async demo`: runs end to end, plain lines in a pipe, a live display on a terminal."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path

import pytest

from layers_async.cli.demo import SUMMARY_HEADERS

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


def _run_in_pty(args: list[str], timeout: float = 60.0, columns: int = 160) -> tuple[int, str]:
    """Run `python <args>` under a pseudo-terminal `columns` wide; return (status, text)."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: a terminal on stdout
        os.environ["COLUMNS"] = str(columns)
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


#: A summary table row: the customer, its name, short ids of what was made, seconds, status.
ROW = re.compile(
    r"^(demo-\d{4}) +(\S.{0,13}?) +(prj_[0-9a-f]{6}) +(inf_[0-9a-f]{6}) +(cnt_[0-9a-f]{6})"
    r" +(sp_[0-9a-f]{6}) +\d+\.\d +ok$"
)


def _table(text: str) -> list[str]:
    """The summary table's lines: from its header line to the blank line after it."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:1] == ["customer"])
    end = lines.index("", start)
    return [line.rstrip() for line in lines[start:end]]


@pytest.mark.timeout(90)
def test_demo_in_a_pipe_prints_plain_lines_and_an_80_column_table(tmp_path: Path) -> None:
    """In a pipe: a plain line per customer, an aligned 80-column table, full ids in --results."""
    results = tmp_path / "demo.jsonl"
    proc = _run(["-m", "layers_async", "demo", "--customers", "6", "--results", str(results)])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "\x1b[" not in out  # no terminal escapes in a pipe
    assert "Onboarding 6 customers, 6 at a time" in out  # not the concurrency of 25
    assert len(re.findall(r"^\[\s*\d+\.\ds\] \d+/6 demo-\d{4} .*: ok$", out, re.M)) == 6
    table = _table(out)
    assert table[0].split() == list(SUMMARY_HEADERS)
    assert all(len(line) <= 80 and "\t" not in line for line in table)
    rows = [ROW.match(line) for line in table[1:]]
    assert len(rows) == 6
    assert all(rows), table
    assert re.search(r"^6 of 6 customers onboarded in [\d.]+ s$", out, re.M)
    assert re.search(r"^requests \d+ \| retries \d+ \| 429s \d+ \| polls \d+$", out, re.M)
    full = {r["external_id"]: r for r in map(json.loads, results.read_text().splitlines())}
    for row in rows:
        assert row is not None
        rec = full[row[1]]
        assert rec["ok"]
        assert rec["project_id"].startswith(row[3])
        assert len(rec["project_id"]) == 40  # the full id: prj_ and a UUID
        assert rec["influencer_id"].startswith(row[4])
        assert rec["container_id"].startswith(row[5])
        assert rec["scheduled_post_ids"][0].startswith(row[6])


@pytest.mark.timeout(90)
def test_demo_with_sub_orgs_onboards_each_customer_inside_its_own_child(tmp_path: Path) -> None:
    """--sub-orgs: every customer gets its own child organization and is onboarded in it."""
    results = tmp_path / "demo.jsonl"
    args = ["-m", "layers_async", "demo", "--customers", "3", "--sub-orgs"]
    proc = _run([*args, "--results", str(results)])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Onboarding 3 customers, each in its own child organization" in proc.stdout
    assert re.search(r"^3 of 3 customers onboarded in [\d.]+ s$", proc.stdout, re.M)
    recs = [json.loads(line) for line in results.read_text().splitlines()]
    assert all(r["ok"] for r in recs)
    orgs = {r["organization_id"] for r in recs}
    assert len(orgs) == 3
    assert all(re.fullmatch(r"org_[0-9a-f-]{36}", o) for o in orgs)
    assert "lp_live_" not in proc.stdout + results.read_text()  # no child secret shown


@pytest.mark.timeout(120)
def test_a_60_customer_demo_table_reads_at_80_columns_on_a_terminal() -> None:
    """On an 80-column terminal: whole-word headers, one line per customer, none over 80."""
    status, raw = _run_in_pty(["-m", "layers_async", "demo", "--customers", "60"], columns=80)
    text = ANSI.sub("", raw).replace("\r", "")
    assert status == 0, text[-3000:]
    assert "Onboarding 60 customers, 25 at a time" in text
    table = _table(text.split("Onboarded customers", 1)[1])
    assert table[0].split() == list(SUMMARY_HEADERS)
    assert set(table[1]) == {"─"}  # the rule under the header
    assert len(table) == 2 + 60
    assert all(ROW.match(line) for line in table[2:]), table
    assert max(len(line) for line in table) <= 80
    assert "60 of 60 customers onboarded" in text


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
    table = _table(text.replace("\r", "").split("Onboarded customers", 1)[1])
    assert table[0].split() == list(SUMMARY_HEADERS)
    assert set(table[1]) == {"─"}  # drawn as a table with a rule, not tab-separated lines
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


@pytest.mark.timeout(90)
def test_demo_with_webhooks_wakes_the_waits_on_events_and_reports_the_polls_saved() -> None:
    """`demo --webhooks` receives the sandbox's events on 127.0.0.1 and every job and OAuth wait
    ends on its event, with the polls per wait and the polls saved in the totals."""
    proc = _run(["-m", "layers_async", "demo", "--customers", "4", "--webhooks"])
    assert proc.returncode == 0, proc.stderr
    assert "4 of 4 customers onboarded" in proc.stdout
    found = re.search(r"webhooks: (\d+) events received on http://127\.0\.0\.1:\d+/", proc.stdout)
    assert found is not None, proc.stdout
    assert int(found.group(1)) == 8  # a job.completed and a social_account.connected each
    ended = re.search(r"job and OAuth waits: 8, ended by their event alone: (\d+)", proc.stdout)
    assert ended is not None, proc.stdout
    assert int(ended.group(1)) >= 4  # the others (a late delivery) by a safety poll
    per_wait = re.search(r"their polls per wait: ([\d.]+) \(polling only: about ", proc.stdout)
    assert per_wait is not None, proc.stdout
    assert float(per_wait.group(1)) < 1.0
    assert all(len(line) <= 80 for line in proc.stdout.splitlines() if "webhook" in line)

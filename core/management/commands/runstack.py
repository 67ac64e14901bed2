"""`make run`'s supervisor: the web server, the worker pools (training, generation, the rest), the scheduler,
and a local anvil chain.

Each child runs in its own process group with its output prefixed by its name. A child that dies is restarted
with backoff; Ctrl-C (or SIGTERM) stops them in order — web and scheduler, then the worker (a second signal
after a grace period, so a long training step does not hold the shutdown; the sweeper resumes it on the next
start), then anvil, which writes its state to var/chain/ as it exits.

If the supervisor itself dies, by any signal including SIGKILL, the kernel signals every child (Linux's
`PR_SET_PDEATHSIG`, set in the child between fork and exec): the worker is killed outright — a SIGTERM would let
it finish a training run first, and the sweeper resumes that run from its checkpoint on the next start — and
the others get SIGTERM, so anvil still writes its state and gunicorn stops its workers.
"""

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlparse

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from config.conf import PROJECT

# Worker pools: the queues each serves. Training is long and holds a GPU; generation is short; the rest is
# bookkeeping, chain and webhooks. Separate processes, so none waits behind another's work.
POOLS = {"training": "training", "generation": "generation", "default": "default,chain"}
RESTART_LIMIT = 5
RESTART_WINDOW_S = 60.0
STOP_GRACE_S = 10.0


@dataclass
class Child:
    name: str
    argv: list[str]
    ready_port: int | None = None
    stop_grace_s: float = STOP_GRACE_S
    orphan_signal: int = signal.SIGTERM  # what the child gets if the supervisor dies
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen | None = None
    restarts: list[float] = field(default_factory=list)


PR_SET_PDEATHSIG = 1
# Looked up before any fork: the child runs only this one foreign call before exec.
_prctl = getattr(ctypes.CDLL(None, use_errno=True), "prctl", None) if sys.platform == "linux" else None


def _die_with_parent(sig: int, parent: int) -> Callable[[], None]:
    """A preexec function: this child gets `sig` when the supervisor dies (and exits now if it already has)."""

    def arm() -> None:
        if _prctl is not None:
            _prctl(PR_SET_PDEATHSIG, sig)
        if os.getppid() != parent:
            os._exit(1)

    return arm


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.3)
        return sock.connect_ex((host, port)) == 0


def _listener(port: int) -> str:
    """' by pid N (name)' for the local process listening on `port`, when /proc tells; otherwise ''."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as rows:
            for row in list(rows)[1:]:
                fields = row.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                    inodes.add(f"socket:[{fields[9]}]")
    for pid in filter(str.isdigit, os.listdir("/proc") if inodes else []):
        with contextlib.suppress(OSError):
            if any(os.readlink(f"/proc/{pid}/fd/{fd}") in inodes for fd in os.listdir(f"/proc/{pid}/fd")):
                name = Path(f"/proc/{pid}/comm").read_text().strip()
                return f" by pid {pid} ({name})"
    return ""


def _pump(name: str, stream: TextIO, out: TextIO, lock: threading.Lock) -> None:
    for line in stream:
        with lock:
            out.write(f"{name:>9} | {line}")
            out.flush()


class Command(BaseCommand):
    help = "Start and supervise the web server, a worker per pool, the scheduler and a local anvil node."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=PROJECT.read("ATELIER_PORT"))
        parser.add_argument("--web-workers", type=int, default=PROJECT.read("WEB_CONCURRENCY"))
        parser.add_argument("--no-chain", action="store_true", help="do not start anvil (use CHAIN_RPC_URL)")
        parser.add_argument(
            "--check-ports", action="store_true", help="only check that the ports the stack needs are free, then exit"
        )

    def handle(
        self, *args: Any, host: str, port: int, web_workers: int, no_chain: bool, check_ports: bool, **options: Any
    ) -> None:
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        children = self._children(host=host, port=port, web_workers=web_workers, with_chain=not no_chain)
        self._check_ports(children, host)
        if not check_ports:
            self._run(children, host=host, port=port, no_chain=no_chain)

    @staticmethod
    def _check_ports(children: list[Child], host: str) -> None:
        for child in children:
            if child.ready_port and _port_open(host if child.name == "web" else "127.0.0.1", child.ready_port):
                raise CommandError(
                    f"port {child.ready_port} ({child.name}) is already in use"
                    f"{_listener(child.ready_port)}: stop it (a stray `make run`?) or choose another "
                    f"port (ATELIER_PORT, CHAIN_RPC_URL)"
                )

    def _run(self, children: list[Child], *, host: str, port: int, no_chain: bool) -> None:
        self._reset_metrics_dirs(children)
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: self.stopping.set())
        try:
            for child in children:
                self._start(child)
                if child.ready_port and not self._wait_ready(child, host):
                    raise CommandError(f"{child.name} did not start; see its output above")
                if child.name == "anvil":
                    self._deploy_registry()
            self._banner(host=host, port=port, with_chain=not no_chain)
            self._supervise(children)
        finally:
            self._stop_all(children)

    def _children(self, *, host: str, port: int, web_workers: int, with_chain: bool) -> list[Child]:
        python = sys.executable
        manage = str(Path(settings.BASE_DIR) / "manage.py")
        children = []
        if with_chain:
            rpc = urlparse(settings.CHAIN_RPC_URL)
            if rpc.hostname not in {"127.0.0.1", "localhost"}:
                raise CommandError(f"CHAIN_RPC_URL={settings.CHAIN_RPC_URL} is not local; use --no-chain")
            # The launcher's only reach into an app: the npm shim must be bypassed for the native binary, or a
            # SIGTERM reaches the shim and anvil exits without writing its --state (see provenance/chain/anvil.py).
            from provenance.chain.anvil import DEFAULT_ANVIL_BINARY, resolve_anvil_binary

            if not DEFAULT_ANVIL_BINARY.exists():
                raise CommandError("anvil is missing: run `npm ci` (make run does it)")
            anvil = resolve_anvil_binary(DEFAULT_ANVIL_BINARY)
            state_dir = settings.VAR_DIR / "chain"
            state_dir.mkdir(parents=True, exist_ok=True)
            children.append(
                Child(
                    name="anvil",
                    argv=[
                        str(anvil),
                        "--host",
                        "127.0.0.1",
                        "--port",
                        str(rpc.port or 8545),
                        "--chain-id",
                        str(settings.CHAIN_ID),
                        "--state",
                        str(state_dir / "state.json"),
                        "--state-interval",
                        "5",
                        "--block-time",
                        "2",
                        "--silent",
                    ],
                    ready_port=rpc.port or 8545,
                    stop_grace_s=20.0,
                )
            )
        children += [
            Child(
                name="web",
                argv=[
                    python,
                    "-m",
                    "gunicorn",
                    "config.wsgi:application",
                    "--bind",
                    f"{host}:{port}",
                    "--workers",
                    str(web_workers),
                    "--threads",
                    "4",
                    "--timeout",
                    "120",
                    "--graceful-timeout",
                    "10",
                ],
                ready_port=port,
                env={"PROMETHEUS_MULTIPROC_DIR": str(settings.VAR_DIR / "metrics-web")},
            ),
            *self._pool_workers(python, manage),
            Child(name="scheduler", argv=[python, manage, "run_scheduler"]),
        ]
        return children

    @staticmethod
    def _reset_metrics_dirs(children: list[Child]) -> None:
        """Where gunicorn's workers keep their shared Prometheus counters: emptied at each start."""
        for child in children:
            if folder := child.env.get("PROMETHEUS_MULTIPROC_DIR"):
                Path(folder).mkdir(parents=True, exist_ok=True)
                for stale in Path(folder).glob("*.db"):
                    stale.unlink()

    @staticmethod
    def _pool_workers(python: str, manage: str) -> list[Child]:
        """One worker process per slot of each pool (WORKERS_TRAINING, WORKERS_GENERATION, WORKERS_DEFAULT)."""
        workers = []
        for pool, queues in POOLS.items():
            for index in range(settings.WORKER_POOL_SIZES[pool]):
                name = f"{pool}-{index + 1}" if settings.WORKER_POOL_SIZES[pool] > 1 else pool
                workers.append(
                    Child(
                        name=name,
                        argv=[
                            python,
                            manage,
                            "db_worker",
                            "--queue-name",
                            queues,
                            "--interval",
                            "0.5",
                            "--no-reload",
                            "--no-startup-delay",
                        ],
                        orphan_signal=signal.SIGKILL,
                    )
                )
        return workers

    def _start(self, child: Child) -> None:
        child.process = subprocess.Popen(
            child.argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **child.env},
            preexec_fn=_die_with_parent(child.orphan_signal, os.getpid()),  # noqa: PLW1509 (no locks taken)
        )
        threading.Thread(
            target=_pump, args=(child.name, child.process.stdout, self.stdout._out, self.lock), daemon=True
        ).start()

    def _deploy_registry(self) -> None:
        """Deploy the provenance registry once per chain (idempotent; redeploys after a chain reset)."""
        result = subprocess.run(
            [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "chain_deploy"],
            capture_output=True,
            text=True,
            timeout=180,
        )
        with self.lock:
            for line in (result.stdout + result.stderr).splitlines():
                self.stdout.write(f"{'deploy':>9} | {line}")
        if result.returncode != 0:
            raise CommandError("chain_deploy failed; see its output above")

    def _wait_ready(self, child: Child, host: str, timeout: float = 60.0) -> bool:
        deadline = time.monotonic() + timeout
        target = host if child.name == "web" else "127.0.0.1"
        while time.monotonic() < deadline and not self.stopping.is_set():
            if child.process.poll() is not None:
                return False
            if _port_open(target, child.ready_port):
                return True
            time.sleep(0.2)
        return False

    def _banner(self, *, host: str, port: int, with_chain: bool) -> None:
        base = f"http://{host}:{port}"
        lines = [
            "",
            "Atelier is running:",
            f"  home            {base}/",
            f"  API docs        {base}/api/docs/",
            f"  admin           {base}/admin/",
            f"  health          {base}/healthz",
        ]
        if with_chain:
            lines.append(
                f"  chain (anvil)   {settings.CHAIN_RPC_URL}  chain id {settings.CHAIN_ID}, "
                f"state kept in {settings.VAR_DIR / 'chain'}"
            )
        lines += ["Press Ctrl-C to stop.", ""]
        with self.lock:
            self.stdout.write("\n".join(lines))

    def _supervise(self, children: list[Child]) -> None:
        while not self.stopping.wait(0.5):
            for child in children:
                code = child.process.poll()
                if code is None:
                    continue
                now = time.monotonic()
                child.restarts = [t for t in child.restarts if now - t < RESTART_WINDOW_S]
                if len(child.restarts) >= RESTART_LIMIT:
                    raise CommandError(f"{child.name} keeps exiting (code {code}); stopping everything")
                child.restarts.append(now)
                delay = 2 ** (len(child.restarts) - 1) * 0.5
                with self.lock:
                    self.stderr.write(f"{child.name} exited with code {code}; restarting in {delay:.1f}s")
                if self.stopping.wait(delay):
                    return
                self._start(child)

    def _stop_all(self, children: list[Child]) -> None:
        order = {"web": 0, "scheduler": 0, "anvil": 2}
        for rank in (0, 1, 2):
            group = [c for c in children if order.get(c.name, 1) == rank and c.process and c.process.poll() is None]
            for child in group:
                self._signal(child, signal.SIGTERM)
            for child in group:
                try:
                    child.process.wait(timeout=child.stop_grace_s)
                except subprocess.TimeoutExpired:
                    self._signal(child, signal.SIGKILL)
                    child.process.wait()
        with self.lock:
            self.stdout.write("Atelier stopped.")

    @staticmethod
    def _signal(child: Child, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.process.pid, sig)

"""`make run`'s supervisor cleans up after itself: killed by any signal, SIGKILL included, it leaves no child
running; started against a port a stray process holds, it says so in one line before starting anything."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.config.test_make_run import Stack, _wait
from tests.helpers import REPO


def _descendants(pid: int) -> set[int]:
    found, frontier = set(), [pid]
    while frontier:
        parent = frontier.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                if child not in found:
                    found.add(child)
                    frontier.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
@pytest.mark.chain
@pytest.mark.skipif(sys.platform != "linux", reason="PR_SET_PDEATHSIG is Linux's")
def test_no_child_outlives_a_sigkilled_supervisor(tmp_path):
    stack = Stack(tmp_path / "var")
    stack.start(tmp_path / "stack.log")
    children: set[int] = set()
    try:
        _wait(f"{stack.base}/healthz")
        metrics = requests.get(f"{stack.base}/metrics", timeout=10)  # gunicorn's workers add up their counters
        families = {f.name: f for f in text_string_to_metric_families(metrics.text)}
        assert any(
            s.labels.get("view") == "healthz" and s.value >= 1
            for s in families["django_http_requests_total_by_view_transport_method"].samples
        )
        assert families["atelier_chain_up"].samples[0].value == 1
        children = _descendants(stack.process.pid)
        names = {Path(f"/proc/{pid}/comm").read_text().strip() for pid in children if _alive(pid)}
        assert len(children) >= 5 and "anvil" in names, names  # anvil, gunicorn + its worker, worker, scheduler
        stack.process.send_signal(signal.SIGKILL)
        stack.process.wait(timeout=10)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(_alive(pid) for pid in children):
            time.sleep(0.2)
        survivors = {pid: Path(f"/proc/{pid}/cmdline").read_bytes()[:80] for pid in children if _alive(pid)}
        assert not survivors, survivors
    finally:
        stack.log.close()
        for pid in children | _descendants(stack.process.pid):  # leave nothing behind, even when failing
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        if stack.process.poll() is None:
            stack.process.kill()


def test_a_port_held_by_a_stray_process_is_named_in_one_line(tmp_path):
    stray = socket.socket()
    stray.bind(("127.0.0.1", 0))
    stray.listen()
    port = stray.getsockname()[1]
    env = {
        **os.environ,
        "ATELIER_VAR_DIR": str(tmp_path / "var"),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": "",
        "REDIS_URL": "",
        "CHAIN_RPC_URL": f"http://127.0.0.1:{port}",
    }
    try:
        result = subprocess.run(
            [sys.executable, "manage.py", "runstack", "--check-ports", "--port", "0"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        stray.close()
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert f"port {port} (anvil) is already in use by pid {os.getpid()}" in lines[0]

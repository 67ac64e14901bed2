"""`make run`'s stack (migrate, bootstrap_demo, runstack) comes up healthy and keeps its data across a restart."""

import json
import os
import quopri
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from provenance.chain.anvil import free_port
from tests.helpers import REPO


def _wait(url: str, *, status: int = 200, timeout: float = 90) -> requests.Response:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = requests.get(url, timeout=3)
            if last.status_code == status:
                return last
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{url} never answered {status}; last: {last and last.text[:500]}")


def _rpc(url: str, method: str, params: list | None = None):
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}
    return requests.post(url, json=body, timeout=5).json()["result"]


class Stack:
    def __init__(self, var_dir: Path) -> None:
        self.web_port, self.chain_port = free_port(), free_port()
        self.env = {
            **os.environ,
            "ATELIER_VAR_DIR": str(var_dir),
            "DATABASE_URL": "",
            "REDIS_URL": "",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "ATELIER_PORT": str(self.web_port),
            "CHAIN_RPC_URL": f"http://127.0.0.1:{self.chain_port}",
            "PYTHONUNBUFFERED": "1",
            "ATELIER_DEMO_CONTENT": "0",  # the demo pipeline has its own test
            "EMAIL_BACKEND": "file",
            "EMAIL_FILE_PATH": str(var_dir / "mail"),
        }
        self.base = f"http://127.0.0.1:{self.web_port}"
        self.var = var_dir
        self.process: subprocess.Popen | None = None

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=REPO, env=self.env, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, result.stderr[-3000:]
        return result.stdout

    def start(self, log: Path) -> None:
        self.manage("migrate", "--noinput")
        self.credentials = self.manage("bootstrap_demo")
        self.log = log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "runstack", "--web-workers", "1"],
            cwd=REPO,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self) -> int:
        os.killpg(self.process.pid, signal.SIGINT)  # what Ctrl-C sends
        code = self.process.wait(timeout=90)
        self.log.close()
        return code


@pytest.mark.slow
@pytest.mark.chain
def test_stack_is_healthy_and_keeps_users_and_chain_state_across_a_restart(tmp_path):
    stack = Stack(tmp_path / "var")
    log = tmp_path / "stack.log"
    stack.start(log)
    try:
        health = _wait(f"{stack.base}/healthz").json()
        statuses = {name: check["status"] for name, check in health["checks"].items()}
        assert {"database", "worker", "chain", "onnxruntime"} <= set(statuses)
        assert set(statuses.values()) == {"ok"}, statuses
        assert "admin@atelier.localhost" in stack.credentials
        registered = requests.post(
            f"{stack.base}/api/v1/auth/register",
            timeout=10,
            json={"email": "keeper@example.com", "password": "a-long-and-unusual-passphrase", "role": "artist"},
        )
        assert registered.status_code == 202, registered.text
        from tests.security.test_signup_enumeration import link_parts

        # the file backend writes MIME: long lines come quoted-printable, wrapped with soft breaks
        mail = "".join(
            quopri.decodestring(path.read_bytes()).decode() for path in sorted((stack.var / "mail").glob("*.log"))
        )
        uid, confirm_token = link_parts(mail)
        confirmed = requests.post(
            f"{stack.base}/api/v1/auth/register/confirm", timeout=10, json={"uid": uid, "token": confirm_token}
        )
        assert confirmed.status_code == 201, confirmed.text
        token = confirmed.json()["token"]
        key = requests.post(
            f"{stack.base}/api/v1/api-keys",
            json={"name": "ci"},
            timeout=10,
            headers={"Authorization": f"Bearer {token}"},
        ).json()["key"]
        assert (
            requests.get(f"{stack.base}/api/v1/me", headers={"Authorization": f"Bearer {key}"}, timeout=10).json()[
                "email"
            ]
            == "keeper@example.com"
        )
        _rpc(stack.env["CHAIN_RPC_URL"], "anvil_mine", ["0x5"])
        blocks_before = int(_rpc(stack.env["CHAIN_RPC_URL"], "eth_blockNumber"), 16)
        assert blocks_before >= 5
    finally:
        assert stack.stop() == 0, log.read_text()[-3000:]
    assert (tmp_path / "var" / "chain" / "state.json").exists()
    assert "Atelier stopped." in log.read_text()

    stack.start(log)
    try:
        _wait(f"{stack.base}/healthz")
        assert int(_rpc(stack.env["CHAIN_RPC_URL"], "eth_blockNumber"), 16) >= blocks_before
        login = requests.post(
            f"{stack.base}/api/v1/auth/login",
            timeout=10,
            json={"email": "keeper@example.com", "password": "a-long-and-unusual-passphrase"},
        )
        assert login.status_code == 200
        assert (
            requests.get(f"{stack.base}/api/v1/me", headers={"Authorization": f"Bearer {key}"}, timeout=10).status_code
            == 200
        )
        credentials = json.loads((tmp_path / "var" / "demo-credentials.json").read_text())
        staff_login = requests.post(f"{stack.base}/api/v1/auth/login", timeout=10, json=credentials["staff"])
        assert staff_login.status_code == 200 and staff_login.json()["user"]["is_staff"] is True
    finally:
        assert stack.stop() == 0

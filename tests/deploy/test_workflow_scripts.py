"""The deploy workflow's own scripts, run here as GitHub would run them (bash, with the step's environment), against
a real HTTP server on 127.0.0.1 standing in for GitHub's REST API and for the team's webhook."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

WORKFLOW = Path(__file__).resolve().parents[2] / ".github" / "workflows" / "deploy.yml"


class Recorder:
    """Answers every request with `reply` (JSON) and keeps (method, path, headers, body) of each."""

    def __init__(self, reply: dict) -> None:
        self.reply, self.requests = reply, []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                owner.requests.append((self.command, self.path, dict(self.headers), body))
                payload = json.dumps(owner.reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _answer

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    server = Recorder({"ok": True})
    yield server
    server.server.shutdown()
    server.server.server_close()


def step(job: str, name: str) -> dict:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    (found,) = [s for s in workflow["jobs"][job]["steps"] if name in (s.get("name"), s.get("id"))]
    return found


def run_step(script: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """bash -eo pipefail as GitHub runs a `run:` step, with `python` being this interpreter (the container's python3.13)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    if not (bin_dir / "python").exists():
        (bin_dir / "python").symlink_to(sys.executable)
    full_env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "HOME": str(tmp_path), **env}
    return subprocess.run(
        ["/bin/bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        env=full_env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_the_previous_release_is_the_newest_successful_run_on_main(recorder, tmp_path):
    recorder.reply = {"total_count": 2, "workflow_runs": [{"id": 987654321}, {"id": 5}]}
    output = tmp_path / "github_output"
    result = run_step(
        step("deploy-production", "previous")["run"],
        {"GH_TOKEN": "t0ken", "REPOSITORY": "owner/repo", "API": recorder.url, "GITHUB_OUTPUT": str(output)},
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert output.read_text() == "run-id=987654321\n"
    ((method, path, headers, _),) = recorder.requests
    assert method == "GET"
    assert path == "/repos/owner/repo/actions/workflows/deploy.yml/runs?branch=main&status=success&per_page=1"
    assert headers["Authorization"] == "Bearer t0ken"


def test_no_earlier_release_leaves_the_worker_rollback_out(recorder, tmp_path):
    recorder.reply = {"total_count": 0, "workflow_runs": []}
    output = tmp_path / "github_output"
    env = {"GH_TOKEN": "t", "REPOSITORY": "o/r", "API": recorder.url, "GITHUB_OUTPUT": str(output)}
    assert run_step(step("deploy-production", "previous")["run"], env, tmp_path).returncode == 0
    assert output.read_text() == "run-id=\n"


def notify_env(webhook: str, results: dict[str, str]) -> dict[str, str]:
    return {
        "WEBHOOK_URL": webhook,
        "RESULTS": json.dumps({job: {"result": result, "outputs": {}} for job, result in results.items()}),
        "REPOSITORY": "owner/repo",
        "SHA": "0123456789abcdef",
        "RUN_URL": "https://github.example/owner/repo/actions/runs/42",
    }


def test_a_successful_run_is_announced(recorder, tmp_path):
    results = {"test": "success", "audit": "success", "deploy-production": "success"}
    script = step("notify", "post the outcome to the team's webhook")["run"]
    result = run_step(script, notify_env(recorder.url, results), tmp_path)
    assert result.returncode == 0, result.stderr
    ((method, _, headers, body),) = recorder.requests
    assert (method, headers["Content-Type"]) == ("POST", "application/json")
    message = json.loads(body)
    assert message["status"] == "success"
    assert message["jobs"] == results
    assert message["text"] == (
        "lego-api deploy of 0123456 (owner/repo): success https://github.example/owner/repo/actions/runs/42"
    )


def test_a_failed_run_names_the_failed_jobs(recorder, tmp_path):
    results = {"test": "success", "check-staging": "failure", "deploy-production": "skipped"}
    script = step("notify", "post the outcome to the team's webhook")["run"]
    assert run_step(script, notify_env(recorder.url, results), tmp_path).returncode == 0
    message = json.loads(recorder.requests[0][3])
    assert message["status"] == "failure"
    assert "failure, failed: check-staging " in message["text"]


def test_a_missing_webhook_secret_fails_the_step(tmp_path):
    script = step("notify", "post the outcome to the team's webhook")["run"]
    result = run_step(script, notify_env("", {"test": "success"}), tmp_path)
    assert result.returncode != 0
    assert "DEPLOY_WEBHOOK_URL is not set" in result.stderr

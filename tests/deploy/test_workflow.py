"""The deploy workflow (.github/workflows/deploy.yml), read as data: what it runs, in which order, with which
permissions, and that the deploy jobs ship the packages the package job built. `make workflow-check` validates it
against GitHub's schema and audits it with zizmor; the last tests show zizmor's configuration at work."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "deploy.yml"
ZIZMOR_CONFIG = ROOT / ".github" / "zizmor.yml"
DEPLOY_JOBS = ("deploy-staging", "deploy-production")


@pytest.fixture(scope="module")
def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def runs(job: dict) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


def step_using(job: dict, action: str) -> list[dict]:
    return [step for step in job["steps"] if step.get("uses", "").startswith(f"{action}@")]


def test_it_runs_on_push_to_main_and_by_hand(workflow):
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert triggers["push"] == {"branches": ["main"]}
    assert "workflow_dispatch" in triggers
    assert set(triggers) == {"push", "workflow_dispatch"}


def test_every_job_runs_in_the_python_313_debian_container(workflow):
    for name, job in workflow["jobs"].items():
        assert job["container"] == "python:3.13-bookworm", name


def test_permissions_are_explicit_and_least(workflow):
    assert workflow["permissions"] == {}
    for name, job in workflow["jobs"].items():
        assert "permissions" in job, f"{name} has no permissions of its own"
        writes = {scope for scope, level in job["permissions"].items() if level == "write"}
        assert writes == ({"id-token"} if name in DEPLOY_JOBS else set()), name


def test_no_checkout_keeps_its_credentials(workflow):
    checkouts = [step for job in workflow["jobs"].values() for step in step_using(job, "actions/checkout")]
    assert len(checkouts) == 6
    assert all(step["with"]["persist-credentials"] is False for step in checkouts)


def test_no_expression_is_pasted_into_a_script(workflow):
    for name, job in workflow["jobs"].items():
        for step in job["steps"]:
            assert "${{" not in step.get("run", ""), f"{name}: {step.get('name') or step['run'][:40]}"


def test_the_gates_come_in_order(workflow):
    jobs = workflow["jobs"]
    assert "make test" in runs(jobs["test"])
    assert "pip-audit==2.10.1" in runs(jobs["audit"])
    assert "--requirement requirements.txt" in runs(jobs["audit"])
    assert set(jobs["deploy-staging"]["needs"]) == {"test", "audit", "package"}
    assert jobs["check-staging"]["needs"] == "deploy-staging"
    assert jobs["deploy-production"]["needs"] == "check-staging"
    assert jobs["deploy-production"]["environment"]["name"] == "production"
    assert jobs["deploy-production"]["if"] == "github.ref == 'refs/heads/main'"
    assert jobs["notify"]["if"] == "always()"
    assert set(jobs["notify"]["needs"]) == set(jobs) - {"notify"}


def test_the_package_job_builds_each_stage_and_keeps_the_zips(workflow):
    package = workflow["jobs"]["package"]
    assert "make package STAGE=" in runs(package)
    assert re.search(r"for stage in staging staging-worker prod prod-worker;", runs(package))
    (upload,) = step_using(package, "actions/upload-artifact")
    assert upload["with"]["name"] == "lambda-packages"
    assert upload["with"]["path"] == "build/lego-api-*.zip"
    assert upload["with"]["if-no-files-found"] == "error"


@pytest.mark.parametrize(("job_name", "stage"), [("deploy-staging", "staging"), ("deploy-production", "prod")])
def test_the_deploy_jobs_ship_the_built_packages_and_never_build(workflow, job_name, stage):
    job = workflow["jobs"][job_name]
    assert "make package" not in runs(job)
    assert "tools.packaging build" not in runs(job)
    assert all(line.count("--zips") == 1 for line in runs(job).splitlines() if "tools.packaging deploy" in line)
    downloads = [step for step in step_using(job, "actions/download-artifact") if "run-id" not in step["with"]]
    assert [step["with"] for step in downloads] == [{"name": "lambda-packages", "path": "packages"}]
    assert f"make deploy STAGE={stage} ZIPS=packages" in runs(job)
    (credentials,) = step_using(job, "aws-actions/configure-aws-credentials")
    assert credentials["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
    assert not {"aws-access-key-id", "aws-secret-access-key"} & set(credentials["with"])


def test_staging_is_checked_with_the_smoke_tool_and_a_short_load_run(workflow):
    script = runs(workflow["jobs"]["check-staging"])
    assert '.venv/bin/python -m tools.smoke --url "$API_URL"' in script
    assert 'make load TARGET="$API_URL" RATE=20 DURATION=30 SPIKE_DURATION=0' in script


def test_a_failed_production_check_rolls_both_functions_back(workflow):
    steps = {step.get("id") or step.get("name"): step for step in workflow["jobs"]["deploy-production"]["steps"]}
    assert steps["check"]["run"].startswith(".venv/bin/python -m tools.smoke")
    api = steps["roll the API back (move the snapstart alias)"]
    worker = steps["roll the worker back (redeploy the previous release's worker package)"]
    assert api["run"] == "make rollback STAGE=prod"
    assert api["if"].startswith("failure() && steps.check.outcome == 'failure'")
    assert "--zips previous-packages --worker-only" in worker["run"]
    assert worker["if"].startswith("failure() && steps.check.outcome == 'failure'")
    order = list(steps)
    assert order.index("deploy") < order.index("check") < order.index(api["name"]) < order.index(worker["name"])


def test_the_notification_reads_its_webhook_from_a_secret(workflow):
    notify = workflow["jobs"]["notify"]
    assert notify["env"]["WEBHOOK_URL"] == "${{ secrets.DEPLOY_WEBHOOK_URL }}"
    assert "urllib.request.urlopen(request, timeout=20)" in runs(notify)


def test_deploys_of_one_environment_never_overlap(workflow):
    assert workflow["concurrency"]["cancel-in-progress"] is False
    for name in DEPLOY_JOBS:
        assert workflow["jobs"][name]["concurrency"]["cancel-in-progress"] is False


def zizmor(tmp_path: Path, uses: str) -> subprocess.CompletedProcess[str]:
    probe = tmp_path / "probe.yml"
    probe.write_text(
        "name: probe\non: push\npermissions: {}\njobs:\n  probe:\n    runs-on: ubuntu-latest\n"
        "    permissions: {}\n    steps:\n"
        f"      - uses: {uses}\n        with:\n          persist-credentials: false\n"
    )
    zizmor_binary = Path(sys.executable).parent / "zizmor"
    command = [str(zizmor_binary), "--offline", "--config", str(ZIZMOR_CONFIG), str(probe)]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def test_zizmor_allows_official_actions_pinned_by_tag(tmp_path):
    result = zizmor(tmp_path, "actions/checkout@v5")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout


def test_zizmor_refuses_other_actions_not_pinned_to_a_commit(tmp_path):
    result = zizmor(tmp_path, "someone/checkout@v5")
    assert result.returncode != 0
    assert "unpinned-uses" in result.stdout

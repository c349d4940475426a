"""zappa_settings.json: every stage loads in Zappa itself and says what the deployment needs (and no secrets)."""

from __future__ import annotations

import re

import pytest

from tools import packaging

ENVIRONMENTS = {"dev": "dev", "staging": "staging", "prod": "production"}
# Variables that hold secrets (or URLs that carry passwords) belong in the SECRETS_ID secret.
SECRET_NAMES = re.compile(r"^(SECRET_KEY|DATABASE_URL|REDIS_URL|AWS_SECRET_ACCESS_KEY)$|PASSWORD|TOKEN|PRIVATE")


@pytest.mark.parametrize("stage", ENVIRONMENTS)
def test_api_stage(stage):
    cli = packaging.load_stage(stage)
    config = cli.stage_config

    assert cli.runtime == "python3.13" and cli.architecture == "x86_64"
    assert cli.memory_size == 2048 and cli.timeout_seconds == 30
    assert cli.use_apigateway is True
    assert cli.debug is False and cli.log_level in ("WARNING", "ERROR")
    assert cli.xray_tracing is True
    assert cli.django_settings == "lego_api.settings"
    # SnapStart on published versions, API Gateway invoking Zappa's `snapstart` alias (never $LATEST); keep-warm off,
    # since its rule would invoke $LATEST (README, Deploy: SnapStart).
    assert config["snap_start"] == "PublishedVersions" and cli.snap_start == "PublishedVersions"
    assert cli.apigateway_lambda_qualifier == "snapstart"
    assert config["keep_warm"] is False and not config.get("events")
    assert cli.num_retained_versions is None or cli.num_retained_versions >= 2
    assert config["touch_path"] in ("/health", "/health?shallow=1")
    assert cli.vpc_config["SubnetIds"] and cli.vpc_config["SecurityGroupIds"]
    variables = cli.aws_environment_variables
    assert variables["ENVIRONMENT"] == ENVIRONMENTS[stage]
    assert variables["SECRETS_ID"]
    assert variables["XRAY_ENABLED"] == "true"
    assert variables["TASKS_WORKER_FUNCTION"] == packaging.load_stage(f"{stage}-worker").lambda_name


@pytest.mark.parametrize("stage", ENVIRONMENTS)
def test_worker_stage(stage):
    worker = packaging.load_stage(f"{stage}-worker")

    assert worker.use_apigateway is False
    assert worker.memory_size == 2048 and worker.timeout_seconds == 900
    assert worker.stage_config["keep_warm"] is False
    # Workers extend their API stage but must not inherit SnapStart: they are invoked by name ($LATEST).
    assert worker.stage_config["snap_start"] == "None" and worker.snap_start == "None"
    assert worker.apigateway_lambda_qualifier is None
    assert {"function": "mocs.tasks.cleanup_stale_uploads", "expression": "rate(1 hour)"} in worker.stage_config[
        "events"
    ]
    assert worker.aws_environment_variables == packaging.load_stage(stage).aws_environment_variables


@pytest.mark.parametrize("stage", [*ENVIRONMENTS, *(f"{s}-worker" for s in ENVIRONMENTS)])
def test_no_secret_in_the_settings_file(stage):
    cli = packaging.load_stage(stage)
    for key, value in {**cli.aws_environment_variables, **cli.environment_variables}.items():
        assert not SECRET_NAMES.search(key), key
        assert not re.search(r"://[^/@]+:[^/@]+@", value), key  # no credentials in URLs


def test_exclude_list_keeps_development_files_out():
    config = packaging.load_stage("dev").stage_config
    for name in ("tests", ".venv", ".local", ".env", "__pycache__", ".git", ".pytest_cache", ".ruff_cache"):
        assert name in config["exclude"], name
    for path in ("build", "tools", "requirements*.txt", "zappa_settings.*"):
        assert path in config["exclude_glob"], path

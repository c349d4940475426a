"""Where this process runs: on AWS Lambda or not, and whether work after the response (tasks, index refreshes)
runs inline. Imports nothing of ours, so any module may ask (SPEC §7.3)."""

from __future__ import annotations

import os

from django.conf import settings


def on_lambda() -> bool:
    """True inside a Lambda function (its runtime sets AWS_LAMBDA_FUNCTION_NAME)."""
    return bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))


def runs_inline() -> bool:
    """Tasks run in this process, right after commit: off Lambda, or on it with TASKS_EAGER."""
    return settings.TASKS_EAGER or not on_lambda()

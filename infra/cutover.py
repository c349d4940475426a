"""`make cutover STAGE=prod WEIGHT=10` (`python -m infra.cutover --stage prod --weight 10`): send WEIGHT percent of
the API domain's DNS answers to this API and the rest to the old one, by updating the `lego-api-dns-{stage}` stack's
`NewApiWeight`/`OldApiWeight` parameters (infra/dns.py; the stack stays the one description of the records, so
nothing drifts and a later stack update cannot quietly put old weights back).

Before any WEIGHT above 0 it checks that
- the stage answers `GET {stage url}/health` with 200 and status `healthy` (the stage URL is the one Zappa's REST
  API `lego-api-{stage}` serves, or --url), and
- no CloudWatch alarm named `lego-api-{stage}-*` is in ALARM (and that such alarms exist: a stage without its
  observability stack is not watched),
and refuses, naming what is wrong, otherwise. WEIGHT=0 is the rollback: it never waits on those checks, because it
is what an operator runs while the alarms fire. docs/cutover.md has the phases."""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from infra.common import PROJECT, STAGES, stack_name

HEALTH_TIMEOUT_SECONDS = 15  # the full check takes at most about 8 s (SPEC §7.1), plus a cold start
WEIGHT_PARAMETERS = ("NewApiWeight", "OldApiWeight")


class CutoverRefused(RuntimeError):
    """The stage is not fit to take more traffic (or the request itself is wrong): nothing was changed."""


@dataclass(frozen=True)
class Weights:
    new: int
    old: int

    def __str__(self) -> str:
        return f"{self.new}% this API / {self.old}% the old API"


def alarm_prefix(stage: str) -> str:
    return f"{PROJECT}-{stage}-"


def stage_url(stage: str, apigateway, region: str) -> str:
    """The stage's execute-api URL: Zappa names the REST API after the function, `lego-api-{stage}`."""
    name = f"{PROJECT}-{stage}"
    for page in apigateway.get_paginator("get_rest_apis").paginate():
        for api in page["items"]:
            if api["name"] == name:
                return f"https://{api['id']}.execute-api.{region}.amazonaws.com/{stage}"
    raise CutoverRefused(f"no REST API named {name} (is stage {stage} deployed?); pass --url")


def health_problem(url: str) -> str | None:
    """None when `GET {url}/health` answers 200 with status `healthy`, else what is wrong."""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        return f"{url} is not an http(s) URL"
    health_url = f"{url.rstrip('/')}/health"
    request = urllib.request.Request(health_url, headers={"Accept": "application/json"})  # noqa: S310 (checked above)
    try:
        with urllib.request.urlopen(request, timeout=HEALTH_TIMEOUT_SECONDS) as response:  # noqa: S310 (checked above)
            status, body = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, body = exc.code, exc.read()
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        return f"{url}/health did not answer: {exc}"
    try:
        document = json.loads(body)
    except ValueError:
        return f"{url}/health answered {status} with no JSON"
    data = document.get("data") or (document.get("error") or {}).get("details") or {}
    health = data.get("status") if isinstance(data, dict) else None
    if status != 200 or health != "healthy":
        down = sorted(
            name
            for name, component in (data.get("components") or {}).items()
            if isinstance(component, dict) and component.get("status") == "down"
        )
        return f"{url}/health answered {status}, status {health!r}" + (f" (down: {', '.join(down)})" if down else "")
    return None


def stage_alarms(stage: str, cloudwatch) -> dict[str, str]:
    """Every metric and composite alarm named `lego-api-{stage}-*`, with its state."""
    states: dict[str, str] = {}
    pages = cloudwatch.get_paginator("describe_alarms").paginate(
        AlarmNamePrefix=alarm_prefix(stage), AlarmTypes=["MetricAlarm", "CompositeAlarm"]
    )
    for page in pages:
        for alarm in page.get("MetricAlarms", []) + page.get("CompositeAlarms", []):
            states[alarm["AlarmName"]] = alarm["StateValue"]
    return states


def current_weights(stage: str, cloudformation) -> Weights:
    stack = cloudformation.describe_stacks(StackName=stack_name("dns", stage))["Stacks"][0]
    values = {p["ParameterKey"]: p.get("ParameterValue") for p in stack.get("Parameters", [])}
    return Weights(new=int(values["NewApiWeight"]), old=int(values["OldApiWeight"]))


def set_weights(stage: str, weights: Weights, cloudformation) -> None:
    """Update the dns stack's two weight parameters (every other parameter and the template as they are) and wait
    for the update: Route53 has the new weights when it completes."""
    name = stack_name("dns", stage)
    stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    parameters = [
        {"ParameterKey": p["ParameterKey"], "UsePreviousValue": True}
        for p in stack.get("Parameters", [])
        if p["ParameterKey"] not in WEIGHT_PARAMETERS
    ]
    parameters += [
        {"ParameterKey": "NewApiWeight", "ParameterValue": str(weights.new)},
        {"ParameterKey": "OldApiWeight", "ParameterValue": str(weights.old)},
    ]
    cloudformation.update_stack(StackName=name, UsePreviousTemplate=True, Parameters=parameters)
    cloudformation.get_waiter("stack_update_complete").wait(
        StackName=name, WaiterConfig={"Delay": 5, "MaxAttempts": 120}
    )


def cutover(
    stage: str,
    weight: int,
    *,
    cloudformation,
    cloudwatch,
    url: str | None = None,
    apigateway=None,
    region: str = "us-east-1",
    log: Callable[[str], None] = print,
) -> Weights:
    """Check, then move the weights; returns the weights now set. Raises CutoverRefused (nothing changed)."""
    if stage not in STAGES:
        raise CutoverRefused(f"unknown stage {stage!r}; one of {', '.join(STAGES)}")
    if not 0 <= weight <= 100:
        raise CutoverRefused(f"WEIGHT must be a percentage from 0 to 100, not {weight}")
    target = Weights(new=weight, old=100 - weight)
    before = current_weights(stage, cloudformation)
    if weight == 0:
        log("WEIGHT=0 is the rollback: the health and alarm checks are skipped (it is allowed while alarms fire)")
    else:
        states = stage_alarms(stage, cloudwatch)
        if not states:
            raise CutoverRefused(
                f"no alarm named {alarm_prefix(stage)}* exists: deploy the observability stack first, so that the "
                "stage is watched while it takes traffic"
            )
        firing = sorted(name for name, state in states.items() if state == "ALARM")
        if firing:
            raise CutoverRefused(f"alarms firing for {stage}: {', '.join(firing)}")
        log(f"{len(states)} alarms for {stage}, none in ALARM")
        url = url or stage_url(stage, apigateway, region)
        problem = health_problem(url)
        if problem:
            raise CutoverRefused(problem)
        log(f"{url}/health is healthy")
    if before == target:
        log(f"{stack_name('dns', stage)} already sends {target}: nothing to change")
        return target
    log(f"{stack_name('dns', stage)}: {before} -> {target}")
    set_weights(stage, target, cloudformation)
    log(f"done: {target} (resolvers follow within the records' 60 s TTL)")
    return target


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.cutover", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stage", required=True, choices=STAGES)
    parser.add_argument("--weight", required=True, type=int, help="percent of the API domain's answers for this API")
    parser.add_argument("--url", help="the stage's base URL for the health check (default: its execute-api URL)")
    parser.add_argument("--region", default="us-east-1")
    args = parser.parse_args(argv)
    import boto3
    import botocore.exceptions

    clients = {name: boto3.client(name, region_name=args.region) for name in ("cloudformation", "cloudwatch")}
    try:
        cutover(
            args.stage,
            args.weight,
            url=args.url,
            apigateway=None if args.url else boto3.client("apigateway", region_name=args.region),
            region=args.region,
            **clients,
        )
    except CutoverRefused as exc:
        print(f"cutover refused, nothing changed: {exc}", file=sys.stderr)
        return 1
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        print(f"cutover failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`python -m infra.outputs --stage dev` (`make infra-outputs STAGE=dev`): read the deployed data stack
`lego-api-data-{stage}`'s outputs and write them into the stage's entry of zappa_settings.json, which its `-worker`
stage extends: `vpc_config` (the private subnets and the functions' security group), `s3_bucket` (Zappa's deployment
bucket), `extra_permissions` (read the application secret; Cognito's admin calls on the pool) and the variables
`SECRETS_ID`, `STORAGE_BUCKET`, `COGNITO_USER_POOL_ID`, `COGNITO_APP_CLIENT_ID`, plus `CORS_ALLOWED_ORIGINS` while it
still holds a placeholder. Zappa's `extends` replaces whole keys, so the stage's keys override `common`'s
placeholders; a key the worker entry sets itself is written there too. Every other key and the file's 2-space JSON
are kept. Nothing is written when the stack or one of the outputs is missing. Prints what still holds a placeholder
(the API's domain in ALLOWED_HOSTS is not the data stack's)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from infra.common import stack_name

PLACEHOLDER = "REPLACE"
SETTINGS_FILE = Path("zappa_settings.json")
# variable -> output, always written
VARIABLES = {
    "SECRETS_ID": "AppSecretName",
    "STORAGE_BUCKET": "MediaBucketName",
    "COGNITO_USER_POOL_ID": "UserPoolId",
    "COGNITO_APP_CLIENT_ID": "UserPoolClientId",
}
# variable -> output, written only over a placeholder (an operator may list more origins than the bucket's one)
PLACEHOLDER_VARIABLES = {"CORS_ALLOWED_ORIGINS": "WebOrigin"}
REQUIRED_OUTPUTS = (
    "PrivateSubnetA",
    "PrivateSubnetB",
    "LambdaSecurityGroupId",
    "DeploymentBucketName",
    "AppSecretArn",
    "UserPoolArn",
    *VARIABLES.values(),
    *PLACEHOLDER_VARIABLES.values(),
)
# A stack in one of these states has every output of its last successful template.
USABLE_STATUSES = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE"}


class OutputsError(Exception):
    """The settings cannot be written: the message says why and what to do."""


def stack_outputs(client: Any, name: str) -> dict[str, str]:
    """The outputs of a deployed stack, by OutputKey."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        stacks = client.describe_stacks(StackName=name)["Stacks"]
    except BotoCoreError as error:  # no credentials, no network
        raise OutputsError(f"cannot ask CloudFormation about {name}: {error}") from error
    except ClientError as error:
        message = error.response.get("Error", {}).get("Message", str(error))
        if "does not exist" in message:
            raise OutputsError(
                f"stack {name} does not exist in {client.meta.region_name}: create it first (README, Deploy)"
            ) from error
        raise OutputsError(f"cannot read stack {name}: {message}") from error
    stack = stacks[0]
    if stack["StackStatus"] not in USABLE_STATUSES:
        raise OutputsError(f"stack {name} is {stack['StackStatus']}: wait for it or fix it, then run this again")
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}


def extra_permissions(outputs: dict[str, str]) -> list[dict[str, Any]]:
    """What the functions need beyond Zappa's own role policy (which already has S3, Lambda invoke, X-Ray, ENIs)."""
    return [
        {"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": outputs["AppSecretArn"]},
        {
            "Effect": "Allow",
            "Action": ["cognito-idp:AdminGetUser", "cognito-idp:AdminUpdateUserAttributes"],
            "Resource": outputs["UserPoolArn"],
        },
    ]


def stage_keys(outputs: dict[str, str]) -> dict[str, Any]:
    return {
        "s3_bucket": outputs["DeploymentBucketName"],
        "vpc_config": {
            "SubnetIds": [outputs["PrivateSubnetA"], outputs["PrivateSubnetB"]],
            "SecurityGroupIds": [outputs["LambdaSecurityGroupId"]],
        },
        "extra_permissions": extra_permissions(outputs),
    }


def _write_variables(variables: dict[str, str], outputs: dict[str, str]) -> None:
    for variable, output in VARIABLES.items():
        variables[variable] = outputs[output]
    for variable, output in PLACEHOLDER_VARIABLES.items():
        if PLACEHOLDER in variables.get(variable, PLACEHOLDER):
            variables[variable] = outputs[output]


def apply_outputs(settings: dict[str, Any], stage: str, outputs: dict[str, str]) -> list[str]:
    """Write the outputs into `settings` (in place) for `stage` (an entry of it) and its worker; return the entries
    changed."""
    missing = [name for name in REQUIRED_OUTPUTS if not outputs.get(name)]
    if missing:
        raise OutputsError(
            f"the data stack has no output {', '.join(missing)}: update it with the current "
            "infra/templates/data.json, then run this again"
        )
    keys = stage_keys(outputs)
    entries = [stage]
    settings[stage].update(keys)
    _write_variables(settings[stage].setdefault("aws_environment_variables", {}), outputs)
    worker = f"{stage}-worker"
    if worker in settings:
        own = {key: value for key, value in keys.items() if key in settings[worker]}
        settings[worker].update(own)
        if "aws_environment_variables" in settings[worker]:
            _write_variables(settings[worker]["aws_environment_variables"], outputs)
        if own or "aws_environment_variables" in settings[worker]:
            entries.append(worker)
    return entries


def effective(settings: dict[str, Any], stage: str) -> dict[str, Any]:
    """A stage's settings as Zappa resolves them (`extends`: the stage's keys replace its parent's whole)."""
    entry = settings[stage]
    parent = entry.get("extends")
    return {**(effective(settings, parent) if parent else {}), **entry}


def placeholders(value: Any, path: str = "") -> list[str]:
    """The paths of the strings under `value` that still hold a placeholder."""
    if isinstance(value, dict):
        return [found for key, item in value.items() for found in placeholders(item, f"{path}.{key}" if path else key)]
    if isinstance(value, list):
        return [found for index, item in enumerate(value) for found in placeholders(item, f"{path}[{index}]")]
    return [path] if isinstance(value, str) and PLACEHOLDER in value else []


def render(settings: dict[str, Any]) -> str:
    return json.dumps(settings, indent=2, ensure_ascii=False) + "\n"


def write_atomically(path: Path, text: str) -> None:
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.chmod(temporary, path.stat().st_mode & 0o777)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def main(argv: Sequence[str] | None = None, client: Any = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.outputs", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stage", required=True, help="dev, staging or prod")
    parser.add_argument("--settings", type=Path, default=SETTINGS_FILE, help="the Zappa settings file to update")
    parser.add_argument("--region", help="the stack's region (default: the stage's aws_region)")
    args = parser.parse_args(argv)
    try:
        name = stack_name("data", args.stage)
        settings = json.loads(args.settings.read_text())
        if args.stage not in settings:
            raise OutputsError(f"{args.settings} has no stage {args.stage!r}")
        region = args.region or effective(settings, args.stage).get("aws_region")
        if client is None:
            import boto3

            client = boto3.client("cloudformation", region_name=region)
        entries = apply_outputs(settings, args.stage, stack_outputs(client, name))
    except (OutputsError, ValueError, OSError) as error:
        print(f"infra-outputs: {error}; {args.settings} is unchanged", file=sys.stderr)
        return 1
    write_atomically(args.settings, render(settings))
    print(f"wrote the outputs of {name} into {args.settings}: {', '.join(entries)}")
    left = sorted({found for entry in entries for found in placeholders(effective(settings, entry))})
    if left:
        print(f"still to fill by hand (not the data stack's): {', '.join(left)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A real Cognito user pool in the harness's moto server, for the profile and fault tests. Users are made with
Username = the `sub` their tokens carry, which is how the API asks for them (moto's AdminGetUser looks users up by
Username or alias, not by `sub`)."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from typing import Any

import boto3

from profiles.identity import ENDPOINT_VARIABLE

REGION = "us-east-1"


@dataclass
class CognitoPool:
    """A user pool of the test's own in moto."""

    client: Any
    pool_id: str

    @classmethod
    def create(cls, settings) -> CognitoPool:
        """A new pool, set as COGNITO_USER_POOL_ID (pytest-django's `settings`: restored after the test)."""
        client = boto3.client("cognito-idp", region_name=REGION, endpoint_url=os.environ[ENDPOINT_VARIABLE])
        pool_id = client.create_user_pool(PoolName=f"test-{uuid.uuid4().hex[:8]}")["UserPool"]["Id"]
        settings.COGNITO_USER_POOL_ID = pool_id
        settings.COGNITO_REGION = REGION
        return cls(client=client, pool_id=pool_id)

    def add_user(self, sub: str, **attributes: str) -> None:
        """A user whose Username is `sub`, with these attributes (`email`, `name`, `given_name`, `family_name`)."""
        self.client.admin_create_user(
            UserPoolId=self.pool_id,
            Username=sub,
            UserAttributes=[{"Name": name, "Value": value} for name, value in attributes.items()],
            MessageAction="SUPPRESS",
        )

    def attributes(self, sub: str) -> dict[str, str]:
        user = self.client.admin_get_user(UserPoolId=self.pool_id, Username=sub)
        return {item["Name"]: item["Value"] for item in user["UserAttributes"]}

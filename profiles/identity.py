"""The identity provider behind the profile (SPEC §4.5 "Identity source"): Cognito's admin API when
`COGNITO_USER_POOL_ID` is set (`AdminGetUser` / `AdminUpdateUserAttributes`, Username = the caller's `sub`), else
nothing: the `profiles` row is then the only source.

Calls are bounded like core storage's: a hung or unreachable Cognito fails within
MAX_ATTEMPTS x (CONNECT_TIMEOUT + READ_TIMEOUT) = 6 s, not botocore's default minutes. boto3 is imported on first
use (cold start), and one client per process is reused (they are thread-safe once made).
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from typing import Any

from django.conf import settings

logger = logging.getLogger("lego_api.profiles")

CONNECT_TIMEOUT = 1
READ_TIMEOUT = 2
MAX_ATTEMPTS = 2  # one retry: Cognito's occasional throttling or 5xx
# boto3's own service-specific endpoint override (SPEC §8); set only for the local stand-in (moto).
ENDPOINT_VARIABLE = "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER"
USER_NOT_FOUND = "UserNotFoundException"


@dataclass(frozen=True)
class Identity:
    """What Cognito says of a user: `name` per SPEC §4.5 (`name`, else given + family name), None when absent."""

    email: str | None
    name: str | None


class UnknownUser(Exception):
    """Cognito answered that the pool has no such user."""


class IdentityUnavailable(Exception):
    """Cognito could not be asked, or refused in any way other than an unknown user."""


def cognito_enabled() -> bool:
    return bool(settings.COGNITO_USER_POOL_ID)


_clients: dict[tuple[str, str | None], Any] = {}
_clients_lock = threading.Lock()


def _client() -> Any:
    """The process's Cognito client for the configured region and endpoint (made again when either changes)."""
    key = (settings.COGNITO_REGION, os.environ.get(ENDPOINT_VARIABLE) or None)
    client = _clients.get(key)
    if client is not None:
        return client
    with _clients_lock:
        if key not in _clients:
            import boto3
            from botocore.config import Config

            config = Config(
                connect_timeout=CONNECT_TIMEOUT,
                read_timeout=READ_TIMEOUT,
                retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
            )
            _clients[key] = boto3.client("cognito-idp", region_name=key[0], endpoint_url=key[1], config=config)
        return _clients[key]


def _errors() -> tuple[type[Exception], ...]:
    from botocore.exceptions import BotoCoreError, ClientError

    return (BotoCoreError, ClientError)


def _error_code(error: Exception) -> str:
    """Cognito's error code (`UserNotFoundException`), or the botocore class for a failure to get an answer."""
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code", "")) or type(error).__name__


def text_attribute(attributes: dict[str, Any], name: str) -> str:
    """An attribute's (or a token claim's) text, trimmed; anything but a string counts as absent."""
    value = attributes.get(name)
    return value.strip() if isinstance(value, str) else ""


def name_from_attributes(attributes: dict[str, Any]) -> str | None:
    """SPEC §4.5: the `name` attribute, else `given_name` + " " + `family_name` (either alone when only one is set)."""
    full = " ".join(
        part for part in (text_attribute(attributes, "given_name"), text_attribute(attributes, "family_name")) if part
    )
    return text_attribute(attributes, "name") or full or None


def fetch_identity(user_id: str) -> Identity:
    """AdminGetUser for the user. Raises UnknownUser when Cognito does not know them, IdentityUnavailable for any
    other failure (unreachable, timed out, throttled, a missing pool, refused credentials)."""
    try:
        answer = _client().admin_get_user(UserPoolId=settings.COGNITO_USER_POOL_ID, Username=user_id)
    except _errors() as error:
        if _error_code(error) == USER_NOT_FOUND:
            raise UnknownUser(user_id) from error
        raise IdentityUnavailable(_error_code(error)) from error
    attributes = {item["Name"]: item.get("Value", "") for item in answer.get("UserAttributes", [])}
    return Identity(email=text_attribute(attributes, "email") or None, name=name_from_attributes(attributes))


def update_name(user_id: str, name: str) -> None:
    """AdminUpdateUserAttributes `name`; any failure (an unknown user included) raises IdentityUnavailable."""
    try:
        _client().admin_update_user_attributes(
            UserPoolId=settings.COGNITO_USER_POOL_ID,
            Username=user_id,
            UserAttributes=[{"Name": "name", "Value": name}],
        )
    except _errors() as error:
        raise IdentityUnavailable(_error_code(error)) from error

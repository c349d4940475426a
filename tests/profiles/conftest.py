"""Fixtures of the profile tests: a real Cognito user pool (moto, `tests.profiles.cognito`), or no Cognito at all."""

from __future__ import annotations

import pytest

from tests.profiles.cognito import CognitoPool


@pytest.fixture
def cognito(services, settings) -> CognitoPool:
    """Identity from a pool of the test's own (SPEC §4.5 "Identity source")."""
    return CognitoPool.create(settings)


@pytest.fixture
def without_cognito(settings) -> None:
    """Identity from the profiles row only (SPEC §4.5: COGNITO_USER_POOL_ID unset)."""
    settings.COGNITO_USER_POOL_ID = None

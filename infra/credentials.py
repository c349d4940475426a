"""Generated credentials in Secrets Manager, and CloudFormation dynamic references to them.

Every generated value is safe inside a URL's userinfo as it is (letters, digits and `-._~`, the unreserved
characters), because the application secret embeds them in `DATABASE_URL`, `REDIS_URL` and `OPENSEARCH_URL`; and
one of each kind is required, which OpenSearch's master password rule wants (upper, lower, digit, special).
RDS master passwords (no `/`, `@`, `"`, space) accept that alphabet; ElastiCache AUTH tokens allow no punctuation
but `!&#$^<>-`, so theirs is letters, digits and `-`."""

from __future__ import annotations

import json
import string

from troposphere import Sub, Template, secretsmanager

from infra.common import cost_tags

URL_SAFE_PUNCTUATION = "-._~"
AUTH_TOKEN_PUNCTUATION = "-"  # the one URL-safe character among ElastiCache's allowed `!&#$^<>-`


def excluded(punctuation: str = URL_SAFE_PUNCTUATION) -> str:
    """Secrets Manager's ExcludeCharacters for a value of letters, digits and `punctuation`."""
    return "".join(c for c in string.punctuation if c not in punctuation)


def credential_secret(
    t: Template,
    title: str,
    purpose: str,
    key: str,
    length: int,
    punctuation: str = URL_SAFE_PUNCTUATION,
    **fields: str,
):
    """A secret `lego-api/{stage}/{purpose}` holding `fields` and a generated `key` (letters, digits and
    `punctuation`, at least one of each)."""
    return t.add_resource(
        secretsmanager.Secret(
            title,
            Name=Sub(f"lego-api/${{Stage}}/{purpose}"),
            Description=Sub(f"LEGO API ${{Stage}}: {purpose} credentials (generated)"),
            GenerateSecretString=secretsmanager.GenerateSecretString(
                SecretStringTemplate=json.dumps(fields, sort_keys=True),
                GenerateStringKey=key,
                PasswordLength=length,
                ExcludeCharacters=excluded(punctuation),
                RequireEachIncludedType=True,
            ),
            Tags=cost_tags(),
        )
    )


def resolve(secret_title: str, key: str) -> str:
    """A dynamic reference to one JSON key of a secret in this stack, for use inside `Sub`."""
    return f"{{{{resolve:secretsmanager:${{{secret_title}}}:SecretString:{key}}}}}"

"""What moto's CloudFormation ignores, created through each service's own moto API from the data template's
properties, and asserted on what moto answers: the media bucket's Block Public Access, encryption, lifecycle rules,
CORS and TLS-only policy; and the secrets: credentials generated with the template's rules (safe inside URLs), and
the application secret as CloudFormation would write it (Sub, dynamic references, a generated SECRET_KEY), read back
by the API's own cold-start loader and parsed by the clients the API uses (dj-database-url, redis-py, opensearch-py)."""

from __future__ import annotations

import json
import string
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import boto3
import dj_database_url
import pytest
import redis
from botocore.config import Config
from opensearchpy.client.utils import _normalize_hosts

from infra.credentials import AUTH_TOKEN_PUNCTUATION, URL_SAFE_PUNCTUATION
from lego_api.core.secrets import fetch_secret
from lego_api.core.storage import s3 as storage_s3
from lego_api.core.storage.backends import S3Storage
from tests.infra.data_helpers import (
    ACCOUNT,
    REGION,
    load_template,
    moto_environment,
    resolve_dynamic_references,
    resources_of,
    substitute,
)

STAGE = "dev"
WEB_ORIGIN = "https://dev.lego.example"
ENDPOINTS = {
    "DbProxy.Endpoint": "lego-api-dev.proxy-abc.us-east-1.rds.amazonaws.com",
    "Cache.PrimaryEndPoint.Address": "master.lego-dev.abc.use1.cache.amazonaws.com",
    "Cache.PrimaryEndPoint.Port": "6379",
    "SearchDomain.DomainEndpoint": "vpc-lego-api-dev-abc.us-east-1.es.amazonaws.com",
}
PSEUDO = {"Stage": STAGE, "AWS::AccountId": ACCOUNT, "AWS::Region": REGION, "WebOrigin": WEB_ORIGIN}


@pytest.fixture
def aws(monkeypatch):
    yield from moto_environment(monkeypatch)


@pytest.fixture(scope="module")
def template():
    return load_template("data")


def lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """A CloudFormation lifecycle rule as S3's API takes it; a property this does not know fails the test."""
    known = {"Id", "Status", "Prefix", "ExpirationInDays", "AbortIncompleteMultipartUpload"}
    assert set(rule) <= known, set(rule) - known
    api: dict[str, Any] = {"ID": rule["Id"], "Status": rule["Status"], "Filter": {"Prefix": rule.get("Prefix", "")}}
    if "ExpirationInDays" in rule:
        api["Expiration"] = {"Days": rule["ExpirationInDays"]}
    if "AbortIncompleteMultipartUpload" in rule:
        api["AbortIncompleteMultipartUpload"] = rule["AbortIncompleteMultipartUpload"]
    return api


def cors_rule(rule: dict[str, Any]) -> dict[str, Any]:
    names = {
        "Id": "ID",
        "AllowedOrigins": "AllowedOrigins",
        "AllowedMethods": "AllowedMethods",
        "AllowedHeaders": "AllowedHeaders",
        "ExposedHeaders": "ExposeHeaders",
        "MaxAge": "MaxAgeSeconds",
    }
    assert set(rule) <= set(names), set(rule) - set(names)
    return {names[key]: value for key, value in rule.items()}


def create_bucket(s3, template, title: str) -> str:
    properties = substitute(template["Resources"][title]["Properties"], PSEUDO)
    name = properties["BucketName"]
    s3.create_bucket(Bucket=name)
    s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=properties["PublicAccessBlockConfiguration"])
    encryption = [
        {"ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"]}
        for rule in properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    ]
    s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": encryption})
    s3.put_bucket_ownership_controls(Bucket=name, OwnershipControls=properties["OwnershipControls"])
    s3.put_bucket_lifecycle_configuration(
        Bucket=name,
        LifecycleConfiguration={
            "Rules": [lifecycle_rule(rule) for rule in properties["LifecycleConfiguration"]["Rules"]]
        },
    )
    if "CorsConfiguration" in properties:
        s3.put_bucket_cors(
            Bucket=name,
            CORSConfiguration={"CORSRules": [cors_rule(rule) for rule in properties["CorsConfiguration"]["CorsRules"]]},
        )
    (policy,) = (
        body
        for body in resources_of(template, "AWS::S3::BucketPolicy").values()
        if body["Properties"]["Bucket"] == {"Ref": title}
    )
    arn = f"arn:aws:s3:::{name}"
    document = substitute(policy["Properties"]["PolicyDocument"], {**PSEUDO, f"{title}.Arn": arn})
    s3.put_bucket_policy(Bucket=name, Policy=json.dumps(document))
    return name


def test_media_bucket_rules_as_s3_holds_them(aws, template):
    s3 = boto3.client("s3", region_name=REGION)
    name = create_bucket(s3, template, "MediaBucket")
    assert name == f"lego-api-dev-media-{ACCOUNT}"

    assert s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    (encryption,) = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"]
    assert encryption["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert s3.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"]["Rules"] == [
        {"ObjectOwnership": "BucketOwnerEnforced"}
    ]

    rules = {rule["ID"]: rule for rule in s3.get_bucket_lifecycle_configuration(Bucket=name)["Rules"]}
    assert rules["expire-tmp"]["Filter"] == {"Prefix": "tmp/"}
    assert rules["expire-tmp"]["Expiration"] == {"Days": 1}
    assert rules["expire-tmp"]["Status"] == "Enabled"
    assert rules["abort-incomplete-multipart-uploads"]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    assert rules["abort-incomplete-multipart-uploads"]["Filter"] == {"Prefix": ""}

    (cors,) = s3.get_bucket_cors(Bucket=name)["CORSRules"]
    assert cors["AllowedOrigins"] == [WEB_ORIGIN]
    assert cors["AllowedMethods"] == ["PUT"]
    assert cors["AllowedHeaders"] == ["Content-Type"]
    assert cors["ExposeHeaders"] == ["ETag"]

    (statement,) = json.loads(s3.get_bucket_policy(Bucket=name)["Policy"])["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert statement["Resource"] == [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"]


def test_presigned_put_from_the_api_fits_the_cors_rule(aws, template):
    """The API's presigned PUT (core storage, SPEC §5.4), with the client configuration the deployed settings give
    it, signs no header but Content-Type: the one header the CORS rule admits (besides Host, which browsers set)."""
    s3 = boto3.client("s3", region_name=REGION)
    name = create_bucket(s3, template, "MediaBucket")
    storage = S3Storage(
        bucket_name=name,
        region_name=REGION,
        endpoint_url=None,
        client_config=Config(signature_version="s3v4", s3={"addressing_style": "virtual"}),
    )
    url = storage_s3.presigned_put(storage, "mocs/u/m/f.pdf", content_type="application/pdf", expires_in=3600)
    signed = parse_qs(urlsplit(url).query)["X-Amz-SignedHeaders"][0].split(";")
    (cors,) = s3.get_bucket_cors(Bucket=name)["CORSRules"]
    assert "PUT" in cors["AllowedMethods"]
    assert set(signed) - {"host"} <= {header.lower() for header in cors["AllowedHeaders"]}
    assert "content-type" in signed


def generate(secretsmanager, rules: dict[str, Any]) -> str:
    """A value generated by Secrets Manager (moto) with the template's GenerateSecretString rules."""
    options = {
        key: rules[key] for key in ("PasswordLength", "ExcludeCharacters", "RequireEachIncludedType") if key in rules
    }
    return secretsmanager.get_random_password(**options)["RandomPassword"]


def create_secrets(template) -> dict[str, dict[str, Any]]:
    """Every secret in the template, created in moto as CloudFormation would; returns name -> (arn, values)."""
    secretsmanager = boto3.client("secretsmanager", region_name=REGION)
    secrets = resources_of(template, "AWS::SecretsManager::Secret")
    created: dict[str, dict[str, Any]] = {}
    by_arn: dict[str, dict[str, str]] = {}
    for title in sorted(secrets, key=lambda title: title == "AppSecret"):  # the app secret refers to the others
        properties = secrets[title]["Properties"]
        rules = properties["GenerateSecretString"]
        text = rules["SecretStringTemplate"]
        if isinstance(text, dict):
            variables = {**PSEUDO, **ENDPOINTS, **{other: created[other]["arn"] for other in created}}
            text = resolve_dynamic_references(substitute(text, variables), by_arn)
        values = json.loads(text)
        values[rules["GenerateStringKey"]] = generate(secretsmanager, rules)
        answer = secretsmanager.create_secret(
            Name=substitute(properties["Name"], PSEUDO),
            SecretString=json.dumps(values),
            Tags=substitute(properties["Tags"], PSEUDO),
        )
        created[title] = {"arn": answer["ARN"], "name": answer["Name"], "values": values}
        by_arn[answer["ARN"]] = values
    return created


# ElastiCache allows no punctuation in an AUTH token but `!&#$^<>-`; RDS none of `/@" `; OpenSearch's master password
# needs an upper and a lower case letter, a digit and a special character. All three sit inside URLs.
CREDENTIALS = {
    ("DbSecret", "password"): URL_SAFE_PUNCTUATION,
    ("CacheSecret", "token"): AUTH_TOKEN_PUNCTUATION,
    ("SearchSecret", "password"): URL_SAFE_PUNCTUATION,
}
ELASTICACHE_PUNCTUATION = set("!&#$^<>-")


def test_generated_credentials_are_url_safe_and_strong(aws, template):
    created = create_secrets(template)
    assert set(created) == {"DbSecret", "CacheSecret", "SearchSecret", "AppSecret"}
    for (title, key), punctuation in CREDENTIALS.items():
        value = created[title]["values"][key]
        assert quote(value, safe="") == value, title  # nothing to escape inside a URL
        assert set(value) <= set(string.ascii_letters + string.digits + punctuation), title
        assert not set(value) & set('/@" '), title  # RDS
        for kind in (string.ascii_uppercase, string.ascii_lowercase, string.digits, punctuation):
            assert set(value) & set(kind), (title, kind)
        assert len(value) >= 32
    token = created["CacheSecret"]["values"]["token"]
    assert set(token) - set(string.ascii_letters + string.digits) <= ELASTICACHE_PUNCTUATION
    assert 16 <= len(token) <= 128
    assert created["DbSecret"]["name"] == "lego-api/dev/db"
    tags = boto3.client("secretsmanager", region_name=REGION).describe_secret(SecretId="lego-api/dev")["Tags"]
    assert {tag["Key"]: tag["Value"] for tag in tags} == {"Project": "lego-api", "Environment": "dev"}


def test_the_api_loads_the_application_secret_and_its_clients_accept_every_url(aws, template):
    created = create_secrets(template)
    database, cache, search = (created[name]["values"] for name in ("DbSecret", "CacheSecret", "SearchSecret"))

    values = fetch_secret("lego-api/dev")  # the API's own cold-start reader (SECRETS_ID)

    assert set(values) == {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "OPENSEARCH_URL"}
    assert len(values["SECRET_KEY"]) == 64
    parsed = dj_database_url.parse(values["DATABASE_URL"])
    assert parsed["ENGINE"] == "django.db.backends.postgresql"
    assert (parsed["HOST"], parsed["PORT"], parsed["NAME"]) == (ENDPOINTS["DbProxy.Endpoint"], 5432, "lego")
    assert (parsed["USER"], parsed["PASSWORD"]) == (database["username"], database["password"])
    assert parsed["OPTIONS"] == {"sslmode": "require"}  # RDS Proxy requires TLS

    pool = redis.ConnectionPool.from_url(values["REDIS_URL"])
    assert pool.connection_class is redis.SSLConnection  # in-transit encryption
    assert pool.connection_kwargs["password"] == cache["token"]
    assert pool.connection_kwargs["host"] == ENDPOINTS["Cache.PrimaryEndPoint.Address"]
    assert pool.connection_kwargs["port"] == 6379

    (host,) = _normalize_hosts([values["OPENSEARCH_URL"]])
    assert host == {
        "host": ENDPOINTS["SearchDomain.DomainEndpoint"],
        "port": 443,
        "use_ssl": True,
        "http_auth": f"{search['username']}:{search['password']}",
    }

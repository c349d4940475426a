"""The data plane of one stage (`lego-api-data-{stage}`): the network, PostgreSQL behind RDS Proxy, Redis,
OpenSearch, the media bucket, Cognito and the application secret that the API loads at cold start (`SECRETS_ID`).
Its outputs are what zappa_settings.json needs (`make infra-outputs STAGE=…` writes them there) and what the
observability stack imports (`${AWS::StackName}-<OutputName>`).

The application secret `lego-api/{stage}` is complete once the stack is: `SECRET_KEY` is generated, and
`DATABASE_URL`, `REDIS_URL` and `OPENSEARCH_URL` are built from the endpoints and from dynamic references to the
generated credentials' secrets, which CloudFormation resolves when it writes the secret and never shows. So no one
copies a password by hand, and the template holds only references. A stack update that changes any of these values
(an endpoint replaced) writes the secret again with a new `SECRET_KEY` (signed cookies and CSRF tokens then expire);
rotating a credential means updating the stack, not rotating the secret alone."""

from __future__ import annotations

import json

from troposphere import Equals, Export, GetAtt, Output, Parameter, Ref, Sub, Template, secretsmanager

from infra.common import cost_tags, new_template
from infra.credentials import excluded, resolve
from infra.database import DATABASE_NAME, add_database
from infra.identity import add_identity
from infra.media import add_buckets
from infra.network import POSTGRES_PORT, add_network
from infra.stores import add_stores

APP_SECRET_NAME = "lego-api/${Stage}"
SECRET_KEY_LENGTH = 64


def _shared_parameters(t: Template) -> None:
    t.add_parameter(
        Parameter(
            "MultiAz",
            Type="String",
            AllowedValues=["true", "false"],
            Default="false",
            Description="a standby in the second AZ for RDS, a Redis replica with failover, OpenSearch over two AZs",
        )
    )
    t.add_parameter(
        Parameter(
            "DeletionProtection",
            Type="String",
            AllowedValues=["true", "false"],
            Default="true",
            Description="deletion protection on the database and the user pool",
        )
    )
    t.add_condition("MultiAz", Equals(Ref("MultiAz"), "true"))
    t.add_condition("Protect", Equals(Ref("DeletionProtection"), "true"))


def app_secret_template() -> str:
    """The application secret's JSON before CloudFormation substitutes it; SECRET_KEY is generated into it."""
    values = {
        "DATABASE_URL": (
            f"postgres://{resolve('DbSecret', 'username')}:{resolve('DbSecret', 'password')}"
            f"@${{DbProxy.Endpoint}}:{POSTGRES_PORT}/{DATABASE_NAME}?sslmode=require"
        ),
        "REDIS_URL": (
            f"rediss://:{resolve('CacheSecret', 'token')}@${{Cache.PrimaryEndPoint.Address}}:${{Cache.PrimaryEndPoint.Port}}/0"
        ),
        "OPENSEARCH_URL": (
            f"https://{resolve('SearchSecret', 'username')}:{resolve('SearchSecret', 'password')}"
            "@${SearchDomain.DomainEndpoint}:443"
        ),
    }
    return json.dumps(values, sort_keys=True)


def _app_secret(t: Template) -> secretsmanager.Secret:
    return t.add_resource(
        secretsmanager.Secret(
            "AppSecret",
            Name=Sub(APP_SECRET_NAME),
            Description=Sub("LEGO API ${Stage}: the JSON loaded into the environment at cold start (SECRETS_ID)"),
            GenerateSecretString=secretsmanager.GenerateSecretString(
                SecretStringTemplate=Sub(app_secret_template()),
                GenerateStringKey="SECRET_KEY",
                PasswordLength=SECRET_KEY_LENGTH,
                ExcludeCharacters=excluded(),
            ),
            Tags=cost_tags(),
        )
    )


def _output(t: Template, name: str, value, description: str) -> None:
    t.add_output(Output(name, Value=value, Description=description, Export=Export(Sub(f"${{AWS::StackName}}-{name}"))))


def template() -> Template:
    t = new_template(
        "LEGO API data plane for one stage: network, PostgreSQL + RDS Proxy, Redis, OpenSearch, S3, Cognito"
    )
    _shared_parameters(t)
    network = add_network(t)
    database = add_database(t, network)
    stores = add_stores(t, network)
    media, deployments = add_buckets(t)
    pool, client = add_identity(t)
    secret = _app_secret(t)

    outputs = {
        "VpcId": (Ref(network.vpc), "VPC"),
        "PrivateSubnetA": (Ref(network.subnet_a), "private subnet, first AZ (vpc_config SubnetIds)"),
        "PrivateSubnetB": (Ref(network.subnet_b), "private subnet, second AZ (vpc_config SubnetIds)"),
        "LambdaSecurityGroupId": (GetAtt(network.lambda_group, "GroupId"), "the functions' group (vpc_config)"),
        "DbInstanceId": (Ref(database.instance), "RDS instance identifier"),
        "DbProxyName": (Ref(database.proxy), "RDS Proxy name"),
        "DbProxyEndpoint": (GetAtt(database.proxy, "Endpoint"), "RDS Proxy endpoint (DATABASE_URL's host)"),
        "CacheReplicationGroupId": (Ref(stores.cache), "ElastiCache replication group"),
        "CachePrimaryEndpoint": (GetAtt(stores.cache, "PrimaryEndPoint.Address"), "Redis primary (REDIS_URL's host)"),
        "SearchDomainName": (Ref(stores.search), "OpenSearch domain name"),
        "SearchDomainEndpoint": (GetAtt(stores.search, "DomainEndpoint"), "OpenSearch endpoint (OPENSEARCH_URL)"),
        "MediaBucketName": (Ref(media), "media bucket (STORAGE_BUCKET)"),
        "DeploymentBucketName": (Ref(deployments), "Zappa's deployment bucket (s3_bucket)"),
        "UserPoolId": (Ref(pool), "Cognito user pool (COGNITO_USER_POOL_ID)"),
        "UserPoolArn": (GetAtt(pool, "Arn"), "Cognito user pool ARN (the functions' AdminGetUser permission)"),
        "UserPoolClientId": (Ref(client), "Cognito app client (COGNITO_APP_CLIENT_ID)"),
        "AppSecretArn": (Ref(secret), "application secret ARN (the functions' GetSecretValue permission)"),
        "AppSecretName": (Sub(APP_SECRET_NAME), "application secret name (SECRETS_ID)"),
        "WebOrigin": (Ref("WebOrigin"), "the web origin admitted by the bucket's CORS (CORS_ALLOWED_ORIGINS)"),
    }
    for name, (value, description) in outputs.items():
        _output(t, name, value, description)
    return t

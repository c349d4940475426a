"""The generated data-stack template (infra/templates/data.json, as committed): current with its source, lint-clean,
and the properties the issue and the SPEC require: private encrypted buckets with their lifecycle and CORS, TLS
everywhere a client connects, the security-group admissions, the Cognito client the API accepts, the cost tags on
every taggable resource and the exports the other stacks import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cfnlint.schema.manager import PROVIDER_SCHEMA_MANAGER

from infra import build
from profiles import identity
from tests.infra.data_helpers import load_template, resources_of, tags_of

ROOT = Path(__file__).resolve().parents[2]
# interfaces.md: the OutputNames the data stack exports at least.
EXPORTED = (
    "VpcId",
    "PrivateSubnetA",
    "PrivateSubnetB",
    "LambdaSecurityGroupId",
    "DbInstanceId",
    "DbProxyName",
    "DbProxyEndpoint",
    "CacheReplicationGroupId",
    "SearchDomainName",
    "SearchDomainEndpoint",
    "MediaBucketName",
    "UserPoolId",
    "UserPoolClientId",
    "AppSecretArn",
)


@pytest.fixture(scope="module")
def template():
    return load_template("data")


def only(template, resource_type):
    found = resources_of(template, resource_type)
    assert len(found) == 1, found
    return next(iter(found.values()))


def test_committed_templates_match_their_source():
    assert "data" in build.STACKS
    assert build.main(["--check"]) == 0, "run `make templates`"


def test_cfn_lint_reports_nothing():
    templates = sorted(str(build.template_path(kind)) for kind in build.STACKS)
    result = subprocess.run(
        [str(Path(sys.executable).with_name("cfn-lint")), *templates], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_buckets_are_private_encrypted_and_tls_only(template):
    buckets = resources_of(template, "AWS::S3::Bucket")
    assert set(buckets) == {"MediaBucket", "DeploymentBucket"}
    policies = {
        body["Properties"]["Bucket"]["Ref"]: body for body in resources_of(template, "AWS::S3::BucketPolicy").values()
    }
    for name, bucket in buckets.items():
        properties = bucket["Properties"]
        assert properties["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        (rule,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
        assert properties["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
        (deny,) = policies[name]["Properties"]["PolicyDocument"]["Statement"]
        assert deny["Effect"] == "Deny" and deny["Principal"] == "*" and deny["Action"] == "s3:*"
        assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        assert deny["Resource"] == [{"Fn::GetAtt": [name, "Arn"]}, {"Fn::Sub": f"${{{name}.Arn}}/*"}]
    assert buckets["MediaBucket"]["DeletionPolicy"] == "Retain"


def test_media_lifecycle_expires_tmp_after_a_day_and_aborts_multipart_uploads(template):
    rules = template["Resources"]["MediaBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    by_id = {rule["Id"]: rule for rule in rules}
    assert by_id["expire-tmp"] == {"Id": "expire-tmp", "Status": "Enabled", "Prefix": "tmp/", "ExpirationInDays": 1}
    abort = by_id["abort-incomplete-multipart-uploads"]
    assert abort["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    assert abort["Status"] == "Enabled" and "Prefix" not in abort  # the whole bucket
    assert len(rules) == 2


def test_media_bucket_has_the_request_metrics_configuration_the_dashboard_reads(template):
    """S3 publishes request metrics only for a named configuration; the observability stack's default names it."""
    from infra import observability

    configurations = template["Resources"]["MediaBucket"]["Properties"]["MetricsConfigurations"]
    assert configurations == [{"Id": observability.S3_FILTER_ID_DEFAULT}]  # no filter: the whole bucket


def test_media_cors_admits_presigned_puts_from_the_web_origin_only(template):
    (rule,) = template["Resources"]["MediaBucket"]["Properties"]["CorsConfiguration"]["CorsRules"]
    assert rule["AllowedOrigins"] == [{"Ref": "WebOrigin"}]
    assert rule["AllowedMethods"] == ["PUT"]
    assert rule["AllowedHeaders"] == ["Content-Type"]  # the one header the presigned PUT signs (SPEC §5.4)
    assert template["Parameters"]["WebOrigin"]["AllowedPattern"].startswith("^https?://")


def test_database_is_encrypted_backed_up_private_and_requires_tls(template):
    instance = only(template, "AWS::RDS::DBInstance")
    properties = instance["Properties"]
    assert properties["Engine"] == "postgres"
    assert properties["StorageEncrypted"] is True
    assert properties["BackupRetentionPeriod"] == {"Ref": "BackupRetentionDays"}
    assert template["Parameters"]["BackupRetentionDays"]["MinValue"] >= 1
    assert properties["PubliclyAccessible"] is False
    assert properties["DeletionProtection"] == {"Fn::If": ["Protect", True, False]}
    assert instance["DeletionPolicy"] == instance["UpdateReplacePolicy"] == "Snapshot"
    assert "{{resolve:secretsmanager:${DbSecret}:SecretString:password}}" in properties["MasterUserPassword"]["Fn::Sub"]
    parameters = only(template, "AWS::RDS::DBParameterGroup")["Properties"]
    assert parameters["Parameters"] == {"rds.force_ssl": "1"}
    major = parameters["Family"].removeprefix("postgres")
    assert template["Parameters"]["DbEngineVersion"]["Default"].split(".")[0] == major
    attachment = only(template, "AWS::SecretsManager::SecretTargetAttachment")["Properties"]
    assert attachment == {
        "SecretId": {"Ref": "DbSecret"},
        "TargetId": {"Ref": "DbInstance"},
        "TargetType": "AWS::RDS::DBInstance",
    }


def test_proxy_requires_tls_and_authenticates_with_the_database_secret(template):
    proxy = only(template, "AWS::RDS::DBProxy")["Properties"]
    assert proxy["RequireTLS"] is True
    assert proxy["EngineFamily"] == "POSTGRESQL"
    (auth,) = proxy["Auth"]
    assert auth["AuthScheme"] == "SECRETS" and auth["SecretArn"] == {"Ref": "DbSecret"}
    targets = only(template, "AWS::RDS::DBProxyTargetGroup")["Properties"]
    assert targets["DBInstanceIdentifiers"] == [{"Ref": "DbInstance"}]
    role = template["Resources"][proxy["RoleArn"]["Fn::GetAtt"][0]]["Properties"]
    (statement,) = role["Policies"][0]["PolicyDocument"]["Statement"]
    assert statement == {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": {"Ref": "DbSecret"}}


def test_cache_encrypts_in_transit_and_at_rest_with_an_auth_token(template):
    cache = only(template, "AWS::ElastiCache::ReplicationGroup")["Properties"]
    assert cache["TransitEncryptionEnabled"] is True
    assert cache["AtRestEncryptionEnabled"] is True
    assert cache["AuthToken"] == {"Fn::Sub": "{{resolve:secretsmanager:${CacheSecret}:SecretString:token}}"}
    assert cache["Engine"] == "redis"


def test_search_is_in_the_vpc_encrypted_https_only_with_fine_grained_access(template):
    domain = only(template, "AWS::OpenSearchService::Domain")["Properties"]
    assert domain["EncryptionAtRestOptions"] == {"Enabled": True}
    assert domain["NodeToNodeEncryptionOptions"] == {"Enabled": True}
    assert domain["DomainEndpointOptions"]["EnforceHTTPS"] is True
    assert domain["DomainEndpointOptions"]["TLSSecurityPolicy"].startswith("Policy-Min-TLS-1-2")
    security = domain["AdvancedSecurityOptions"]
    assert security["Enabled"] is True and security["InternalUserDatabaseEnabled"] is True
    assert "${SearchSecret}" in security["MasterUserOptions"]["MasterUserPassword"]["Fn::Sub"]
    assert domain["VPCOptions"]["SecurityGroupIds"] == [{"Fn::GetAtt": ["SearchSecurityGroup", "GroupId"]}]


def test_data_stores_admit_the_functions_group_on_their_own_port_only(template):
    admitted = {}
    for body in resources_of(template, "AWS::EC2::SecurityGroupIngress").values():
        properties = body["Properties"]
        assert properties["FromPort"] == properties["ToPort"]
        assert "CidrIp" not in properties and "CidrIpv6" not in properties
        group = properties["GroupId"]["Fn::GetAtt"][0]
        admitted.setdefault(group, set()).add(
            (properties["SourceSecurityGroupId"]["Fn::GetAtt"][0], properties["FromPort"])
        )
    assert admitted["DatabaseSecurityGroup"] == {("LambdaSecurityGroup", 5432), ("DatabaseSecurityGroup", 5432)}
    assert admitted["CacheSecurityGroup"] == {("LambdaSecurityGroup", 6379)}
    assert admitted["SearchSecurityGroup"] == {("LambdaSecurityGroup", 443)}
    assert admitted["EndpointSecurityGroup"] == {("LambdaSecurityGroup", 443), ("DatabaseSecurityGroup", 443)}
    for body in resources_of(template, "AWS::EC2::SecurityGroup").values():
        assert "SecurityGroupIngress" not in body["Properties"]
    # The stores' groups are the ones the stores use.
    assert only(template, "AWS::ElastiCache::ReplicationGroup")["Properties"]["SecurityGroupIds"] == [
        {"Fn::GetAtt": ["CacheSecurityGroup", "GroupId"]}
    ]
    assert only(template, "AWS::RDS::DBProxy")["Properties"]["VpcSecurityGroupIds"] == [
        {"Fn::GetAtt": ["DatabaseSecurityGroup", "GroupId"]}
    ]


def test_two_private_subnets_in_two_zones(template):
    subnets = {name: body["Properties"] for name, body in resources_of(template, "AWS::EC2::Subnet").items()}
    assert subnets["PrivateSubnetA"]["AvailabilityZone"] != subnets["PrivateSubnetB"]["AvailabilityZone"]
    for name in ("PrivateSubnetA", "PrivateSubnetB"):
        assert subnets[name]["MapPublicIpOnLaunch"] is False
        assert "Condition" not in template["Resources"][name]


def test_egress_mode_chooses_a_nat_gateway_or_interface_endpoints(template):
    resources = template["Resources"]
    assert template["Parameters"]["EgressMode"]["AllowedValues"] == ["nat", "endpoints"]
    for name in ("InternetGateway", "PublicSubnet", "NatGateway", "NatAddress", "PrivateDefaultRoute"):
        assert resources[name]["Condition"] == "UseNat", name
    endpoints = resources_of(template, "AWS::EC2::VPCEndpoint")
    interface = {
        body["Properties"]["ServiceName"]["Fn::Sub"].rsplit(".", 1)[1]
        for body in endpoints.values()
        if body["Properties"]["VpcEndpointType"] == "Interface"
    }
    assert interface == {"secretsmanager", "ssm", "lambda", "cognito-idp"}
    for body in endpoints.values():
        if body["Properties"]["VpcEndpointType"] == "Interface":
            assert body["Condition"] == "UseEndpoints"
            assert body["Properties"]["PrivateDnsEnabled"] is True
        else:  # the S3 gateway endpoint, in both modes
            assert "Condition" not in body
            assert body["Properties"]["ServiceName"] == {"Fn::Sub": "com.amazonaws.${AWS::Region}.s3"}


def test_cognito_client_is_the_one_the_api_verifies(template):
    pool = only(template, "AWS::Cognito::UserPool")
    assert pool["DeletionPolicy"] == "Retain"
    assert pool["Properties"]["UsernameAttributes"] == ["email"]  # usernames are then the sub the API passes
    mutable = {attribute["Name"]: attribute["Mutable"] for attribute in pool["Properties"]["Schema"]}
    assert mutable["name"] is True  # profiles writes it (AdminUpdateUserAttributes)
    client = only(template, "AWS::Cognito::UserPoolClient")["Properties"]
    assert client["GenerateSecret"] is False
    assert client["UserPoolId"] == {"Ref": "UserPool"}
    condition, with_password, without = client["ExplicitAuthFlows"]["Fn::If"]
    assert condition == "PasswordAuth"
    assert set(with_password) - set(without) == {"ALLOW_USER_PASSWORD_AUTH"}
    assert {"ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"} <= set(without)
    # What the profiles app reads from Cognito (profiles/identity.py) is readable through the client.
    read = set(client["ReadAttributes"])
    assert {"email", "name", "given_name", "family_name"} <= read
    assert identity.name_from_attributes({"given_name": "Ada", "family_name": "L"}) == "Ada L"  # the names it combines
    outputs = template["Outputs"]
    assert outputs["UserPoolClientId"]["Value"] == {"Ref": "UserPoolClient"}


def test_application_secret_holds_every_url_the_api_loads(template):
    secret = template["Resources"]["AppSecret"]["Properties"]
    assert secret["Name"] == {"Fn::Sub": "lego-api/${Stage}"}
    generated = secret["GenerateSecretString"]
    assert generated["GenerateStringKey"] == "SECRET_KEY" and generated["PasswordLength"] >= 50
    text = generated["SecretStringTemplate"]["Fn::Sub"]
    for variable in ("DATABASE_URL", "REDIS_URL", "OPENSEARCH_URL"):
        assert f'"{variable}"' in text
    assert "sslmode=require" in text and "rediss://" in text and '"OPENSEARCH_URL": "https://' in text


def _tag_property(resource_type: str) -> str | None:
    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", resource_type).schema
    tagging = schema.get("tagging")
    if tagging is not None:
        return tagging["tagProperty"].rsplit("/", 1)[1] if tagging.get("taggable") else None
    return "Tags" if "Tags" in schema.get("properties", {}) else None


@pytest.mark.parametrize("kind", sorted(build.STACKS))
def test_every_taggable_resource_carries_the_cost_tags(kind):
    template = load_template(kind)
    untagged = []
    for name, body in template["Resources"].items():
        tag_property = _tag_property(body["Type"])
        if tag_property is None:
            continue
        tags = tags_of(body, tag_property)
        if tags.get("Project") != "lego-api" or tags.get("Environment") != {"Ref": "Stage"}:
            untagged.append(f"{name} ({body['Type']})")
    assert untagged == []


def test_the_checker_knows_taggable_from_untaggable():
    assert _tag_property("AWS::Cognito::UserPool") == "UserPoolTags"
    assert _tag_property("AWS::S3::Bucket") == "Tags"
    assert _tag_property("AWS::EC2::SecurityGroupIngress") is None
    assert _tag_property("AWS::Cognito::UserPoolClient") is None


def test_outputs_are_exported_under_the_stack_name(template):
    outputs = template["Outputs"]
    assert set(EXPORTED) <= set(outputs)
    for name, output in outputs.items():
        assert output["Export"] == {"Name": {"Fn::Sub": f"${{AWS::StackName}}-{name}"}}


def test_one_stack_per_stage(template):
    assert template["Parameters"]["Stage"]["AllowedValues"] == ["dev", "staging", "prod"]
    for parameter in ("MultiAz", "EgressMode", "DbInstanceClass", "CacheNodeType", "SearchInstanceType", "WebOrigin"):
        assert parameter in template["Parameters"]


def test_the_readme_walk_through_names_every_parameter_and_the_capability_it_needs(template):
    readme = (ROOT / "README.md").read_text()
    deploy = readme[readme.index("**From an empty AWS account to a running stage.**") :]
    for name in template["Parameters"]:
        assert f"`{name}`" in deploy, name
    assert "--template-file infra/templates/data.json" in deploy
    if resources_of(template, "AWS::IAM::Role"):  # unnamed roles: CAPABILITY_IAM, not CAPABILITY_NAMED_IAM
        assert all("RoleName" not in body["Properties"] for body in resources_of(template, "AWS::IAM::Role").values())
        assert "--capabilities CAPABILITY_IAM" in deploy
    assert "make infra-outputs STAGE=" in deploy and "docs/runbook.md" in deploy

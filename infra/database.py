"""PostgreSQL on RDS (pg_trgm is among RDS's supported extensions; the migrations create it as the master user),
encrypted, with automated backups and a final snapshot, behind RDS Proxy with TLS required. The master credentials
are a generated Secrets Manager secret attached to the instance; the proxy authenticates clients against it."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import GetAtt, If, Parameter, Ref, Sub, Template, iam, rds, secretsmanager

from infra.common import cost_tags
from infra.credentials import credential_secret, resolve
from infra.network import POSTGRES_PORT, Network

DATABASE_NAME = "lego"
MASTER_USERNAME = "lego_admin"
ENGINE_MAJOR = "16"


@dataclass(frozen=True)
class Database:
    secret: secretsmanager.Secret
    instance: rds.DBInstance
    proxy: rds.DBProxy


def _parameters(t: Template) -> None:
    t.add_parameter(
        Parameter(
            "DbInstanceClass",
            Type="String",
            Default="db.t4g.micro",
            AllowedPattern=r"^db\.[a-z0-9]+\.[a-z0-9]+$",
            Description="RDS instance class (dev: db.t4g.micro; prod: db.r7g.large or larger)",
        )
    )
    t.add_parameter(
        Parameter(
            "DbEngineVersion",
            Type="String",
            Default="16.8",
            AllowedPattern=rf"^{ENGINE_MAJOR}\.\d+$",
            Description=f"PostgreSQL {ENGINE_MAJOR} minor version (the parameter group's family is postgres{ENGINE_MAJOR})",
        )
    )
    t.add_parameter(
        Parameter("DbAllocatedStorage", Type="Number", Default=20, MinValue=20, Description="initial storage, GiB")
    )
    t.add_parameter(
        Parameter(
            "DbMaxAllocatedStorage",
            Type="Number",
            Default=100,
            MinValue=21,
            Description="storage autoscaling limit, GiB",
        )
    )
    t.add_parameter(
        Parameter(
            "BackupRetentionDays",
            Type="Number",
            Default=7,
            MinValue=1,
            MaxValue=35,
            Description="days of automated RDS backups (point-in-time recovery window)",
        )
    )


def add_database(t: Template, network: Network) -> Database:
    _parameters(t)
    secret = credential_secret(t, "DbSecret", "db", "password", 32, username=MASTER_USERNAME)
    subnets = t.add_resource(
        rds.DBSubnetGroup(
            "DbSubnetGroup",
            DBSubnetGroupDescription=Sub("LEGO API ${Stage}: private subnets"),
            SubnetIds=network.subnets,
            Tags=cost_tags(),
        )
    )
    parameters = t.add_resource(
        rds.DBParameterGroup(
            "DbParameterGroup",
            Description=Sub("LEGO API ${Stage}: TLS required"),
            Family=f"postgres{ENGINE_MAJOR}",
            Parameters={"rds.force_ssl": "1"},
            Tags=cost_tags(),
        )
    )
    instance = t.add_resource(
        rds.DBInstance(
            "DbInstance",
            DeletionPolicy="Snapshot",
            UpdateReplacePolicy="Snapshot",
            Engine="postgres",
            EngineVersion=Ref("DbEngineVersion"),
            DBInstanceClass=Ref("DbInstanceClass"),
            DBName=DATABASE_NAME,
            MasterUsername=Sub(resolve(secret.title, "username")),
            MasterUserPassword=Sub(resolve(secret.title, "password")),
            AllocatedStorage=Ref("DbAllocatedStorage"),
            MaxAllocatedStorage=Ref("DbMaxAllocatedStorage"),
            StorageType="gp3",
            StorageEncrypted=True,
            BackupRetentionPeriod=Ref("BackupRetentionDays"),
            CopyTagsToSnapshot=True,
            DeletionProtection=If("Protect", True, False),
            MultiAZ=If("MultiAz", True, False),
            PubliclyAccessible=False,
            DBSubnetGroupName=Ref(subnets),
            DBParameterGroupName=Ref(parameters),
            VPCSecurityGroups=[GetAtt(network.database_group, "GroupId")],
            Port=str(POSTGRES_PORT),
            AutoMinorVersionUpgrade=True,
            EnableCloudwatchLogsExports=["postgresql"],
            Tags=cost_tags(),
        )
    )
    t.add_resource(
        secretsmanager.SecretTargetAttachment(
            "DbSecretAttachment", SecretId=Ref(secret), TargetId=Ref(instance), TargetType="AWS::RDS::DBInstance"
        )
    )
    role = t.add_resource(
        iam.Role(
            "DbProxyRole",
            Description=Sub("LEGO API ${Stage}: RDS Proxy reads the database secret"),
            AssumeRolePolicyDocument={
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "rds.amazonaws.com"}, "Action": "sts:AssumeRole"}
                ],
            },
            Policies=[
                iam.Policy(
                    PolicyName="read-db-secret",
                    PolicyDocument={
                        "Version": "2012-10-17",
                        "Statement": [
                            {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": Ref(secret)}
                        ],
                    },
                )
            ],
            Tags=cost_tags(),
        )
    )
    proxy = t.add_resource(
        rds.DBProxy(
            "DbProxy",
            DBProxyName=Sub("lego-api-${Stage}"),
            EngineFamily="POSTGRESQL",
            RequireTLS=True,
            IdleClientTimeout=1800,
            Auth=[
                rds.AuthFormat(
                    AuthScheme="SECRETS",
                    SecretArn=Ref(secret),
                    IAMAuth="DISABLED",  # the API connects with DATABASE_URL's password (psycopg2), not IAM tokens
                    ClientPasswordAuthType="POSTGRES_SCRAM_SHA_256",
                )
            ],
            RoleArn=GetAtt(role, "Arn"),
            VpcSubnetIds=network.subnets,
            VpcSecurityGroupIds=[GetAtt(network.database_group, "GroupId")],
            Tags=cost_tags(),
        )
    )
    t.add_resource(
        rds.DBProxyTargetGroup(
            "DbProxyTargets",
            DBProxyName=Ref(proxy),
            TargetGroupName="default",
            DBInstanceIdentifiers=[Ref(instance)],
            ConnectionPoolConfigurationInfo=rds.ConnectionPoolConfigurationInfoFormat(
                MaxConnectionsPercent=90, MaxIdleConnectionsPercent=50, ConnectionBorrowTimeout=5
            ),
            Tags=cost_tags(),
        )
    )
    return Database(secret, instance, proxy)

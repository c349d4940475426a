"""The cache and the search engine: ElastiCache for Redis (TLS in transit, encrypted at rest, an AUTH token from
Secrets Manager) and an OpenSearch domain in the VPC (encrypted at rest and node to node, HTTPS only).

OpenSearch access: the API's client (lego_api/core/search/client.py) sends HTTP basic credentials from
`OPENSEARCH_URL` and does not sign requests with SigV4, so an IAM resource policy naming the functions' role could
not admit it. The domain uses fine-grained access control with its internal user database instead: the master user's
generated credentials are in Secrets Manager and in the application secret's `OPENSEARCH_URL`; the domain policy lets
any caller that reaches it on the network (the search security group admits the functions' group only) present them.
"""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import GetAtt, If, NoValue, Parameter, Ref, Sub, Template, elasticache, opensearchservice

from infra.common import cost_tags
from infra.credentials import AUTH_TOKEN_PUNCTUATION, credential_secret, resolve
from infra.network import REDIS_PORT, Network

SEARCH_ENGINE_VERSION = "OpenSearch_2.19"


@dataclass(frozen=True)
class Stores:
    cache_secret: object
    cache: elasticache.ReplicationGroup
    search_secret: object
    search: opensearchservice.Domain


def _parameters(t: Template) -> None:
    t.add_parameter(
        Parameter(
            "CacheNodeType",
            Type="String",
            Default="cache.t4g.micro",
            AllowedPattern=r"^cache\.[a-z0-9]+\.[a-z0-9]+$",
            Description="ElastiCache node type (MultiAz=true adds a replica in the second AZ)",
        )
    )
    t.add_parameter(
        Parameter(
            "SearchInstanceType",
            Type="String",
            Default="t3.small.search",
            AllowedPattern=r"^[a-z0-9]+\.[a-z0-9]+\.search$",
            Description="OpenSearch data node type",
        )
    )
    t.add_parameter(
        Parameter(
            "SearchInstanceCount",
            Type="Number",
            Default=1,
            MinValue=1,
            Description="OpenSearch data nodes (an even number when MultiAz=true: spread over the two AZs)",
        )
    )
    t.add_parameter(
        Parameter(
            "SearchVolumeSize",
            Type="Number",
            Default=10,
            MinValue=10,
            Description="OpenSearch EBS volume per node, GiB",
        )
    )


def add_stores(t: Template, network: Network) -> Stores:
    _parameters(t)
    cache_secret = credential_secret(t, "CacheSecret", "cache", "token", 64, punctuation=AUTH_TOKEN_PUNCTUATION)
    cache_subnets = t.add_resource(
        elasticache.SubnetGroup(
            "CacheSubnetGroup",
            Description=Sub("LEGO API ${Stage}: private subnets"),
            SubnetIds=network.subnets,
            Tags=cost_tags(),
        )
    )
    cache = t.add_resource(
        elasticache.ReplicationGroup(
            "Cache",
            ReplicationGroupDescription=Sub("LEGO API ${Stage} cache and rate limits"),
            Engine="redis",
            EngineVersion="7.1",
            CacheNodeType=Ref("CacheNodeType"),
            NumCacheClusters=If("MultiAz", 2, 1),
            AutomaticFailoverEnabled=If("MultiAz", True, False),
            MultiAZEnabled=If("MultiAz", True, False),
            TransitEncryptionEnabled=True,
            AtRestEncryptionEnabled=True,
            AuthToken=Sub(resolve(cache_secret.title, "token")),
            Port=REDIS_PORT,
            CacheSubnetGroupName=Ref(cache_subnets),
            SecurityGroupIds=[GetAtt(network.cache_group, "GroupId")],
            AutoMinorVersionUpgrade=True,
            Tags=cost_tags(),
        )
    )

    search_secret = credential_secret(t, "SearchSecret", "search", "password", 32, username="lego_api")
    domain_name = Sub("lego-api-${Stage}")
    search = t.add_resource(
        opensearchservice.Domain(
            "SearchDomain",
            DomainName=domain_name,
            EngineVersion=SEARCH_ENGINE_VERSION,
            ClusterConfig=opensearchservice.ClusterConfig(
                InstanceType=Ref("SearchInstanceType"),
                InstanceCount=Ref("SearchInstanceCount"),
                ZoneAwarenessEnabled=If("MultiAz", True, False),
                ZoneAwarenessConfig=If(
                    "MultiAz", opensearchservice.ZoneAwarenessConfig(AvailabilityZoneCount=2), NoValue
                ),
            ),
            EBSOptions=opensearchservice.EBSOptions(
                EBSEnabled=True, VolumeType="gp3", VolumeSize=Ref("SearchVolumeSize")
            ),
            EncryptionAtRestOptions=opensearchservice.EncryptionAtRestOptions(Enabled=True),
            NodeToNodeEncryptionOptions=opensearchservice.NodeToNodeEncryptionOptions(Enabled=True),
            DomainEndpointOptions=opensearchservice.DomainEndpointOptions(
                EnforceHTTPS=True, TLSSecurityPolicy="Policy-Min-TLS-1-2-PFS-2023-10"
            ),
            AdvancedSecurityOptions=opensearchservice.AdvancedSecurityOptionsInput(
                Enabled=True,
                InternalUserDatabaseEnabled=True,
                MasterUserOptions=opensearchservice.MasterUserOptions(
                    MasterUserName=Sub(resolve(search_secret.title, "username")),
                    MasterUserPassword=Sub(resolve(search_secret.title, "password")),
                ),
            ),
            AccessPolicies={
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": "*"},
                        "Action": "es:ESHttp*",
                        "Resource": Sub(
                            "arn:${AWS::Partition}:es:${AWS::Region}:${AWS::AccountId}:domain/lego-api-${Stage}/*"
                        ),
                    }
                ],
            },
            VPCOptions=opensearchservice.VPCOptions(
                SubnetIds=If("MultiAz", network.subnets, [Ref(network.subnet_a)]),
                SecurityGroupIds=[GetAtt(network.search_group, "GroupId")],
            ),
            Tags=cost_tags(),
        )
    )
    return Stores(cache_secret, cache, search_secret, search)

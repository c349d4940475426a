"""The data stack's network: a VPC with two private subnets (one per AZ) for the functions and every data store, a
security group per tier (the functions' group is admitted by the others on their own port only), the S3 gateway
endpoint, and the way out to AWS APIs and Cognito: interface endpoints or a NAT gateway, by the `EgressMode`
parameter."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import (
    Equals,
    GetAtt,
    GetAZs,
    If,
    Not,
    Parameter,
    Ref,
    Select,
    Sub,
    Template,
    ec2,
)

from infra.common import cost_tags

USE_NAT = "UseNat"
USE_ENDPOINTS = "UseEndpoints"
# Interface endpoints in `endpoints` mode: the secret at cold start (SECRETS_ID), an SSM path instead of it, the
# worker invoked by the API (TASKS_WORKER_FUNCTION), Cognito's admin API (profiles: AdminGetUser and
# AdminUpdateUserAttributes; Cognito's PrivateLink takes SigV4 SDK calls when the pool has no domain, ours has none).
INTERFACE_ENDPOINTS = {
    "SecretsManagerEndpoint": "secretsmanager",
    "SsmEndpoint": "ssm",
    "LambdaEndpoint": "lambda",
    "CognitoEndpoint": "cognito-idp",
}
POSTGRES_PORT = 5432
REDIS_PORT = 6379
HTTPS_PORT = 443


@dataclass(frozen=True)
class Network:
    vpc: ec2.VPC
    subnet_a: ec2.Subnet
    subnet_b: ec2.Subnet
    lambda_group: ec2.SecurityGroup
    database_group: ec2.SecurityGroup
    cache_group: ec2.SecurityGroup
    search_group: ec2.SecurityGroup

    @property
    def subnets(self) -> list[Ref]:
        return [Ref(self.subnet_a), Ref(self.subnet_b)]


def _parameters(t: Template) -> None:
    t.add_parameter(
        Parameter(
            "EgressMode",
            Type="String",
            AllowedValues=["nat", "endpoints"],
            Default="nat",
            Description=(
                "how the functions reach AWS APIs and Cognito: `nat` (a NAT gateway in a public subnet: every AWS API "
                "and the Cognito JWKS) or `endpoints` (interface endpoints for Secrets Manager, SSM, Lambda and "
                "Cognito; no internet egress). The S3 gateway endpoint is there in both."
            ),
        )
    )
    cidrs = {
        "VpcCidr": ("10.40.0.0/16", "the VPC's address range"),
        "PrivateSubnetACidr": ("10.40.0.0/19", "private subnet in the first AZ (functions and data stores)"),
        "PrivateSubnetBCidr": ("10.40.32.0/19", "private subnet in the second AZ"),
        "PublicSubnetCidr": ("10.40.240.0/24", "public subnet of the NAT gateway (EgressMode=nat only)"),
    }
    for name, (default, description) in cidrs.items():
        t.add_parameter(
            Parameter(
                name,
                Type="String",
                Default=default,
                AllowedPattern=r"^(\d{1,3}\.){3}\d{1,3}/\d{1,2}$",
                Description=description,
            )
        )
    for name, position in (("AvailabilityZoneA", "first"), ("AvailabilityZoneB", "second")):
        t.add_parameter(
            Parameter(
                name,
                Type="String",
                Default="",
                Description=f"the {position} AZ (empty: the region's {position} AZ)",
            )
        )
    t.add_condition(USE_NAT, Equals(Ref("EgressMode"), "nat"))
    t.add_condition(USE_ENDPOINTS, Equals(Ref("EgressMode"), "endpoints"))
    t.add_condition("AzAGiven", Not(Equals(Ref("AvailabilityZoneA"), "")))
    t.add_condition("AzBGiven", Not(Equals(Ref("AvailabilityZoneB"), "")))


def _zone(letter: str, index: int):
    return If(f"Az{letter}Given", Ref(f"AvailabilityZone{letter}"), Select(index, GetAZs("")))


def _group(t: Template, title: str, description: str, vpc: ec2.VPC) -> ec2.SecurityGroup:
    return t.add_resource(
        ec2.SecurityGroup(
            title,
            GroupDescription=description,
            VpcId=Ref(vpc),
            Tags=cost_tags(Name=Sub(f"lego-api-${{Stage}}-{title}")),
        )
    )


def _admit(t: Template, title: str, group, source, port: int, description: str) -> None:
    """`group` admits `source` (a security group) on `port` only."""
    t.add_resource(
        ec2.SecurityGroupIngress(
            title,
            GroupId=GetAtt(group, "GroupId"),
            SourceSecurityGroupId=GetAtt(source, "GroupId"),
            IpProtocol="tcp",
            FromPort=port,
            ToPort=port,
            Description=description,
        )
    )


def add_network(t: Template) -> Network:
    _parameters(t)
    vpc = t.add_resource(
        ec2.VPC(
            "Vpc",
            CidrBlock=Ref("VpcCidr"),
            EnableDnsSupport=True,
            EnableDnsHostnames=True,  # private DNS of the interface endpoints
            Tags=cost_tags(Name=Sub("lego-api-${Stage}")),
        )
    )
    subnets = []
    for letter, index in (("A", 0), ("B", 1)):
        subnets.append(
            t.add_resource(
                ec2.Subnet(
                    f"PrivateSubnet{letter}",
                    VpcId=Ref(vpc),
                    CidrBlock=Ref(f"PrivateSubnet{letter}Cidr"),
                    AvailabilityZone=_zone(letter, index),
                    MapPublicIpOnLaunch=False,
                    Tags=cost_tags(Name=Sub(f"lego-api-${{Stage}}-private-{letter.lower()}")),
                )
            )
        )
    private_routes = t.add_resource(
        ec2.RouteTable("PrivateRouteTable", VpcId=Ref(vpc), Tags=cost_tags(Name=Sub("lego-api-${Stage}-private")))
    )
    for subnet in subnets:
        t.add_resource(
            ec2.SubnetRouteTableAssociation(
                f"{subnet.title}Routes", SubnetId=Ref(subnet), RouteTableId=Ref(private_routes)
            )
        )
    # S3 through the gateway endpoint in both modes: free, and media traffic never pays NAT processing.
    t.add_resource(
        ec2.VPCEndpoint(
            "S3GatewayEndpoint",
            VpcId=Ref(vpc),
            ServiceName=Sub("com.amazonaws.${AWS::Region}.s3"),
            VpcEndpointType="Gateway",
            RouteTableIds=[Ref(private_routes)],
            Tags=cost_tags(),
        )
    )

    lambda_group = _group(t, "LambdaSecurityGroup", "LEGO API functions (API and worker)", vpc)
    database_group = _group(t, "DatabaseSecurityGroup", "RDS Proxy and the PostgreSQL instance behind it", vpc)
    cache_group = _group(t, "CacheSecurityGroup", "ElastiCache for Redis", vpc)
    search_group = _group(t, "SearchSecurityGroup", "OpenSearch domain", vpc)
    _admit(t, "DatabaseFromLambda", database_group, lambda_group, POSTGRES_PORT, "functions to RDS Proxy")
    _admit(t, "DatabaseFromProxy", database_group, database_group, POSTGRES_PORT, "RDS Proxy to the instance")
    _admit(t, "CacheFromLambda", cache_group, lambda_group, REDIS_PORT, "functions to Redis (TLS)")
    _admit(t, "SearchFromLambda", search_group, lambda_group, HTTPS_PORT, "functions to OpenSearch (HTTPS)")
    _nat(t, vpc, private_routes)
    _interface_endpoints(t, vpc, subnets, lambda_group, database_group)
    return Network(vpc, subnets[0], subnets[1], lambda_group, database_group, cache_group, search_group)


def _nat(t: Template, vpc: ec2.VPC, private_routes: ec2.RouteTable) -> None:
    """EgressMode=nat: one NAT gateway in a public subnet of the first AZ, the private subnets' default route."""
    gateway = t.add_resource(
        ec2.InternetGateway("InternetGateway", Condition=USE_NAT, Tags=cost_tags(Name=Sub("lego-api-${Stage}")))
    )
    attachment = t.add_resource(
        ec2.VPCGatewayAttachment(
            "InternetGatewayAttachment", Condition=USE_NAT, VpcId=Ref(vpc), InternetGatewayId=Ref(gateway)
        )
    )
    public_subnet = t.add_resource(
        ec2.Subnet(
            "PublicSubnet",
            Condition=USE_NAT,
            VpcId=Ref(vpc),
            CidrBlock=Ref("PublicSubnetCidr"),
            AvailabilityZone=_zone("A", 0),
            MapPublicIpOnLaunch=False,
            Tags=cost_tags(Name=Sub("lego-api-${Stage}-public")),
        )
    )
    public_routes = t.add_resource(
        ec2.RouteTable(
            "PublicRouteTable", Condition=USE_NAT, VpcId=Ref(vpc), Tags=cost_tags(Name=Sub("lego-api-${Stage}-public"))
        )
    )
    t.add_resource(
        ec2.Route(
            "PublicDefaultRoute",
            Condition=USE_NAT,
            DependsOn=attachment.title,
            RouteTableId=Ref(public_routes),
            DestinationCidrBlock="0.0.0.0/0",
            GatewayId=Ref(gateway),
        )
    )
    t.add_resource(
        ec2.SubnetRouteTableAssociation(
            "PublicSubnetRoutes", Condition=USE_NAT, SubnetId=Ref(public_subnet), RouteTableId=Ref(public_routes)
        )
    )
    address = t.add_resource(
        ec2.EIP("NatAddress", Condition=USE_NAT, Domain="vpc", DependsOn=attachment.title, Tags=cost_tags())
    )
    nat = t.add_resource(
        ec2.NatGateway(
            "NatGateway",
            Condition=USE_NAT,
            AllocationId=GetAtt(address, "AllocationId"),
            SubnetId=Ref(public_subnet),
            Tags=cost_tags(Name=Sub("lego-api-${Stage}")),
        )
    )
    t.add_resource(
        ec2.Route(
            "PrivateDefaultRoute",
            Condition=USE_NAT,
            RouteTableId=Ref(private_routes),
            DestinationCidrBlock="0.0.0.0/0",
            NatGatewayId=Ref(nat),
        )
    )


def _interface_endpoints(t: Template, vpc, subnets, lambda_group, database_group) -> None:
    """EgressMode=endpoints: interface endpoints with private DNS, reachable from the functions (and RDS Proxy,
    which reads its secret) on 443 only."""
    group = t.add_resource(
        ec2.SecurityGroup(
            "EndpointSecurityGroup",
            Condition=USE_ENDPOINTS,
            GroupDescription="interface VPC endpoints",
            VpcId=Ref(vpc),
            Tags=cost_tags(Name=Sub("lego-api-${Stage}-endpoints")),
        )
    )
    for title, source in (("EndpointsFromLambda", lambda_group), ("EndpointsFromProxy", database_group)):
        t.add_resource(
            ec2.SecurityGroupIngress(
                title,
                Condition=USE_ENDPOINTS,
                GroupId=GetAtt(group, "GroupId"),
                SourceSecurityGroupId=GetAtt(source, "GroupId"),
                IpProtocol="tcp",
                FromPort=HTTPS_PORT,
                ToPort=HTTPS_PORT,
                Description="HTTPS to the AWS APIs",
            )
        )
    for title, service in INTERFACE_ENDPOINTS.items():
        t.add_resource(
            ec2.VPCEndpoint(
                title,
                Condition=USE_ENDPOINTS,
                VpcId=Ref(vpc),
                ServiceName=Sub(f"com.amazonaws.${{AWS::Region}}.{service}"),
                VpcEndpointType="Interface",
                PrivateDnsEnabled=True,
                SubnetIds=[Ref(subnet) for subnet in subnets],
                SecurityGroupIds=[GetAtt(group, "GroupId")],
                Tags=cost_tags(),
            )
        )

"""The Cognito user pool and the one app client whose tokens the API accepts (SPEC §2.2: an id token's `aud`, or an
access token's `client_id`, must equal COGNITO_APP_CLIENT_ID; `sub` is the user id).

Sign-in is by e-mail (the username is then a generated UUID equal to `sub`, which is what the profiles app passes to
AdminGetUser/AdminUpdateUserAttributes). The API reads only standard attributes (`email`, `name`, `given_name`,
`family_name`; profiles/identity.py) and writes `name`; there are no custom attributes. USER_PASSWORD_AUTH is on
when `AllowPasswordAuth=true`: the load tests and the pipeline's smoke check sign in test users with it, and their
tokens must come from this same client to pass the API's client id check."""

from __future__ import annotations

from troposphere import Equals, If, Parameter, Ref, Sub, Template, cognito

from infra.common import cost_tags

STANDARD_ATTRIBUTES = ["email", "name", "given_name", "family_name"]


def _parameters(t: Template) -> None:
    t.add_parameter(
        Parameter(
            "AllowPasswordAuth",
            Type="String",
            AllowedValues=["true", "false"],
            Default="true",
            Description="allow USER_PASSWORD_AUTH on the app client (load-test users and the smoke check sign in with it)",
        )
    )
    t.add_condition("PasswordAuth", Equals(Ref("AllowPasswordAuth"), "true"))


def tag_map(tags) -> dict:
    """cost_tags() as the `{key: value}` map Cognito's UserPoolTags takes."""
    return {tag["Key"]: tag["Value"] for tag in tags.to_dict()}


def add_identity(t: Template) -> tuple[cognito.UserPool, cognito.UserPoolClient]:
    _parameters(t)
    pool = t.add_resource(
        cognito.UserPool(
            "UserPool",
            DeletionPolicy="Retain",
            UpdateReplacePolicy="Retain",
            UserPoolName=Sub("lego-api-${Stage}"),
            UsernameAttributes=["email"],
            AutoVerifiedAttributes=["email"],
            UsernameConfiguration=cognito.UsernameConfiguration(CaseSensitive=False),
            Schema=[
                cognito.SchemaAttribute(Name="email", AttributeDataType="String", Required=True, Mutable=True),
                cognito.SchemaAttribute(Name="name", AttributeDataType="String", Required=False, Mutable=True),
            ],
            Policies=cognito.Policies(
                PasswordPolicy=cognito.PasswordPolicy(
                    MinimumLength=12,
                    RequireLowercase=True,
                    RequireUppercase=True,
                    RequireNumbers=True,
                    RequireSymbols=False,
                    TemporaryPasswordValidityDays=7,
                )
            ),
            AccountRecoverySetting=cognito.AccountRecoverySetting(
                RecoveryMechanisms=[cognito.RecoveryOption(Name="verified_email", Priority=1)]
            ),
            DeletionProtection=If("Protect", "ACTIVE", "INACTIVE"),
            UserPoolTags=tag_map(cost_tags()),
        )
    )
    flows = ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    client = t.add_resource(
        cognito.UserPoolClient(
            "UserPoolClient",
            ClientName=Sub("lego-api-${Stage}-web"),
            UserPoolId=Ref(pool),
            GenerateSecret=False,  # a browser app: no client secret to keep
            ExplicitAuthFlows=If("PasswordAuth", [*flows, "ALLOW_USER_PASSWORD_AUTH"], flows),
            PreventUserExistenceErrors="ENABLED",
            EnableTokenRevocation=True,
            SupportedIdentityProviders=["COGNITO"],
            ReadAttributes=[*STANDARD_ATTRIBUTES, "email_verified"],
            WriteAttributes=STANDARD_ATTRIBUTES,
            AccessTokenValidity=60,
            IdTokenValidity=60,
            RefreshTokenValidity=30,
            TokenValidityUnits=cognito.TokenValidityUnits(
                AccessToken="minutes", IdToken="minutes", RefreshToken="days"
            ),
        )
    )
    return pool, client

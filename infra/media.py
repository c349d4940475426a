"""The media bucket (SPEC §5.3/§5.4) and Zappa's deployment bucket.

Media: private (Block Public Access, all four; no ACLs), SSE-S3 by default (the API also sends AES256 on every
write), TLS-only, `tmp/` (gallery originals waiting for processing) expired after a day, incomplete multipart uploads
aborted after a day, and CORS for the presigned flow: the web origin PUTs the bytes with the one header the URL signs,
`Content-Type`; reads need no CORS (presigned GETs are followed by `<img>` and download links, not read by script)."""

from __future__ import annotations

from troposphere import GetAtt, Parameter, Ref, Sub, Template, s3

from infra.common import cost_tags

TMP_PREFIX = "tmp/"


def _parameters(t: Template) -> None:
    t.add_parameter(
        Parameter(
            "WebOrigin",
            Type="String",
            AllowedPattern=r"^https?://[A-Za-z0-9.-]+(:\d+)?$",
            Description="the web app's origin (scheme://host[:port]) allowed to PUT presigned uploads (S3 CORS)",
        )
    )


def _private_bucket(title: str, name, **properties) -> s3.Bucket:
    return s3.Bucket(
        title,
        BucketName=name,
        PublicAccessBlockConfiguration=s3.PublicAccessBlockConfiguration(
            BlockPublicAcls=True, BlockPublicPolicy=True, IgnorePublicAcls=True, RestrictPublicBuckets=True
        ),
        BucketEncryption=s3.BucketEncryption(
            ServerSideEncryptionConfiguration=[
                s3.ServerSideEncryptionRule(
                    ServerSideEncryptionByDefault=s3.ServerSideEncryptionByDefault(SSEAlgorithm="AES256")
                )
            ]
        ),
        OwnershipControls=s3.OwnershipControls(Rules=[s3.OwnershipControlsRule(ObjectOwnership="BucketOwnerEnforced")]),
        Tags=cost_tags(),
        **properties,
    )


def _tls_only(t: Template, bucket: s3.Bucket) -> None:
    t.add_resource(
        s3.BucketPolicy(
            f"{bucket.title}Policy",
            Bucket=Ref(bucket),
            PolicyDocument={
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "TlsOnly",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [GetAtt(bucket, "Arn"), Sub(f"${{{bucket.title}.Arn}}/*")],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    }
                ],
            },
        )
    )


ABORT_MULTIPART = s3.LifecycleRule(
    Id="abort-incomplete-multipart-uploads",
    Status="Enabled",
    AbortIncompleteMultipartUpload=s3.AbortIncompleteMultipartUpload(DaysAfterInitiation=1),
)


def add_buckets(t: Template) -> tuple[s3.Bucket, s3.Bucket]:
    _parameters(t)
    media = t.add_resource(
        _private_bucket(
            "MediaBucket",
            Sub("lego-api-${Stage}-media-${AWS::AccountId}"),
            DeletionPolicy="Retain",
            UpdateReplacePolicy="Retain",
            LifecycleConfiguration=s3.LifecycleConfiguration(
                Rules=[
                    s3.LifecycleRule(Id="expire-tmp", Status="Enabled", Prefix=TMP_PREFIX, ExpirationInDays=1),
                    ABORT_MULTIPART,
                ]
            ),
            # S3 publishes request metrics (the dashboard's S3 widget) only for a request metrics configuration; the
            # observability stack's S3RequestMetricsFilterId names this one.
            MetricsConfigurations=[s3.MetricsConfiguration(Id="EntireBucket")],
            CorsConfiguration=s3.CorsConfiguration(
                CorsRules=[
                    s3.CorsRules(
                        Id="presigned-put",
                        AllowedOrigins=[Ref("WebOrigin")],
                        AllowedMethods=["PUT"],
                        AllowedHeaders=["Content-Type"],
                        ExposedHeaders=["ETag"],
                        MaxAge=3600,
                    )
                ]
            ),
        )
    )
    _tls_only(t, media)
    # Zappa uploads each zip over 50 MB here (`s3_bucket`) and deletes it after the update.
    deployments = t.add_resource(
        _private_bucket(
            "DeploymentBucket",
            Sub("lego-api-${Stage}-zappa-${AWS::AccountId}"),
            LifecycleConfiguration=s3.LifecycleConfiguration(Rules=[ABORT_MULTIPART]),
        )
    )
    _tls_only(t, deployments)
    return media, deployments

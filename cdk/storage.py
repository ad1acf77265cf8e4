"""The ingest, artifacts and output buckets, their access-log bucket and the KMS key."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cdk.nag import acknowledge
from cdk.settings import Settings

INCOMING_PREFIX = "incoming/"
RUNS_PREFIX = "runs/"
REPORTS_PREFIX = "reports/"


class Storage(Construct):
    """Encrypted, versioned, access-logged buckets for one pipeline.

    Attributes:
        key: Customer-managed KMS key (rotated yearly) for the data buckets, the log groups, the
            SNS topic and the dead-letter queue.
        ingest_bucket: Uploads under `incoming/`; sends its events to EventBridge.
        artifacts_bucket: Intermediate files of each run under `runs/<run_id>/`.
        output_bucket: Reports and synthetic tables under `reports/<dataset>/<run_id>/`.
        access_logs_bucket: S3 server access logs of the three data buckets.
    """

    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings) -> None:
        super().__init__(scope, construct_id)
        # Grant S3 log delivery through the log bucket's policy rather than an ACL, so that the
        # log bucket can enforce bucket-owner object ownership (ACLs disabled). Set here, before
        # the buckets exist, so the stack does not depend on the app's feature flags.
        self.node.set_context("@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy", True)
        stack = Stack.of(self)
        removal_policy = (
            RemovalPolicy.DESTROY if settings.remove_data_on_delete else RemovalPolicy.RETAIN
        )

        self.key = kms.Key(
            self,
            "Key",
            description="Encrypts synthcare uploads, artifacts, reports, logs and messages",
            enable_key_rotation=True,
            removal_policy=removal_policy,
            pending_window=Duration.days(7) if settings.remove_data_on_delete else None,
        )
        # CloudWatch Logs encrypts log groups with the key only when the key policy lets the
        # regional service principal use it for log groups of this account.
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
                actions=[
                    "kms:Encrypt",
                    "kms:Decrypt",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:DescribeKey",
                ],
                resources=["*"],
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": (
                            f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:*"
                        )
                    }
                },
            )
        )

        # NOTE: S3 server access logging cannot deliver to a bucket encrypted with SSE-KMS, so
        # the log bucket uses SSE-S3. The logs contain object keys and requester ids, no table data.
        self.access_logs_bucket = s3.Bucket(
            self,
            "AccessLogsBucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            versioned=True,
            removal_policy=removal_policy,
            auto_delete_objects=settings.remove_data_on_delete,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="ExpireAccessLogs",
                    expiration=Duration.days(settings.access_log_retention_days),
                    noncurrent_version_expiration=Duration.days(
                        settings.noncurrent_version_retention_days
                    ),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
        )
        acknowledge(
            self.access_logs_bucket,
            "AwsSolutions-S1",
            "This is the server access log bucket; logging it into itself would loop.",
        )
        acknowledge(
            self.access_logs_bucket,
            "HIPAA.Security-S3BucketLoggingEnabled",
            "This is the server access log bucket; logging it into itself would loop.",
        )
        acknowledge(
            self.access_logs_bucket,
            "HIPAA.Security-S3BucketReplicationEnabled",
            "Access logs are kept in the region of the data they describe; versioning and the "
            "retain policy protect them against loss.",
        )
        acknowledge(
            self.access_logs_bucket,
            "HIPAA.Security-S3DefaultEncryptionKMS",
            "S3 server access logging delivers only to buckets with SSE-S3 encryption.",
        )

        self.ingest_bucket = self._data_bucket(
            "IngestBucket",
            settings,
            removal_policy,
            rules=[
                s3.LifecycleRule(
                    id="ExpireRawUploads",
                    prefix=INCOMING_PREFIX,
                    expiration=Duration.days(settings.raw_retention_days),
                ),
            ],
        )
        # Object-level events go to EventBridge, where the trigger rule filters on the prefix.
        # Set on the CloudFormation resource directly, because the L2 property deploys a custom
        # resource Lambda function to do the same.
        ingest_resource = self.ingest_bucket.node.default_child
        ingest_resource.add_property_override(
            "NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled", True
        )

        self.artifacts_bucket = self._data_bucket(
            "ArtifactsBucket",
            settings,
            removal_policy,
            rules=[
                s3.LifecycleRule(
                    id="ExpireRunArtifacts",
                    prefix=RUNS_PREFIX,
                    expiration=Duration.days(settings.artifact_retention_days),
                ),
            ],
        )
        self.output_bucket = self._data_bucket("OutputBucket", settings, removal_policy, rules=[])

    def _data_bucket(
        self,
        construct_id: str,
        settings: Settings,
        removal_policy: RemovalPolicy,
        *,
        rules: list[s3.LifecycleRule],
    ) -> s3.Bucket:
        common_rules = [
            s3.LifecycleRule(
                id="ExpireNoncurrentVersions",
                noncurrent_version_expiration=Duration.days(
                    settings.noncurrent_version_retention_days
                ),
                expired_object_delete_marker=True,
                abort_incomplete_multipart_upload_after=Duration.days(1),
            )
        ]
        bucket = s3.Bucket(
            self,
            construct_id,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            versioned=True,
            server_access_logs_bucket=self.access_logs_bucket,
            server_access_logs_prefix=f"{construct_id}/",
            removal_policy=removal_policy,
            auto_delete_objects=settings.remove_data_on_delete,
            lifecycle_rules=rules + common_rules,
        )
        acknowledge(
            bucket,
            "HIPAA.Security-S3BucketReplicationEnabled",
            "Replication would copy patient data to a second bucket; versioning and the retain "
            "policy protect against loss instead.",
        )
        return bucket

"""Buckets and KMS key: encryption, TLS, public access, versioning, lifecycle, logging."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Match

from .synthesis import Synthesized, as_list, synthesize


@pytest.fixture(scope="module")
def synth() -> Synthesized:
    return synthesize()


@pytest.fixture(scope="module")
def disposable() -> Synthesized:
    return synthesize({"remove_data_on_delete": True})


def data_bucket_ids(synth: Synthesized) -> dict[str, str]:
    storage = synth.stack.storage
    return {
        "ingest": synth.logical_id(storage.ingest_bucket),
        "artifacts": synth.logical_id(storage.artifacts_bucket),
        "output": synth.logical_id(storage.output_bucket),
    }


def lifecycle_rules(synth: Synthesized, logical_id: str) -> dict[str, dict]:
    bucket = synth.resources[logical_id]
    rules = bucket["Properties"]["LifecycleConfiguration"]["Rules"]
    return {rule["Id"]: rule for rule in rules}


def test_storage_has_four_buckets(synth):
    assert len(synth.of_type("AWS::S3::Bucket")) == 4


def test_kms_key_rotation_enabled(synth):
    synth.template.resource_count_is("AWS::KMS::Key", 1)
    synth.template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})


def test_kms_key_retained_by_default(synth):
    synth.template.has_resource(
        "AWS::KMS::Key", {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}
    )


def test_data_buckets_encrypted_with_kms_key(synth):
    key_id = synth.logical_id(synth.stack.storage.key)
    for name, logical_id in data_bucket_ids(synth).items():
        encryption = synth.resources[logical_id]["Properties"]["BucketEncryption"]
        rule = encryption["ServerSideEncryptionConfiguration"][0]
        default = rule["ServerSideEncryptionByDefault"]
        assert default["SSEAlgorithm"] == "aws:kms", name
        assert default["KMSMasterKeyID"] == {"Fn::GetAtt": [key_id, "Arn"]}, name
        assert rule["BucketKeyEnabled"] is True, name


def test_access_log_bucket_uses_sse_s3(synth):
    logical_id = synth.logical_id(synth.stack.storage.access_logs_bucket)
    encryption = synth.resources[logical_id]["Properties"]["BucketEncryption"]
    default = encryption["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert default == {"SSEAlgorithm": "AES256"}


def test_all_buckets_block_public_access(synth):
    for logical_id, bucket in synth.of_type("AWS::S3::Bucket").items():
        assert bucket["Properties"]["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }, logical_id


def test_all_buckets_versioned(synth):
    for logical_id, bucket in synth.of_type("AWS::S3::Bucket").items():
        assert bucket["Properties"]["VersioningConfiguration"] == {"Status": "Enabled"}, logical_id


def test_all_buckets_retained_by_default(synth):
    for logical_id, bucket in synth.of_type("AWS::S3::Bucket").items():
        assert bucket["DeletionPolicy"] == "Retain", logical_id
        assert bucket["UpdateReplacePolicy"] == "Retain", logical_id


def test_all_bucket_policies_deny_insecure_transport(synth):
    policies = synth.of_type("AWS::S3::BucketPolicy")
    buckets = {policy["Properties"]["Bucket"]["Ref"] for policy in policies.values()}
    assert buckets == set(synth.of_type("AWS::S3::Bucket"))

    for logical_id, policy in policies.items():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        denies = [
            statement
            for statement in statements
            if statement["Effect"] == "Deny"
            and statement.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
        ]
        assert len(denies) == 1, logical_id
        assert denies[0]["Action"] == "s3:*", logical_id
        assert denies[0]["Principal"] == {"AWS": "*"}, logical_id


def test_data_buckets_log_to_access_log_bucket(synth):
    logs_id = synth.logical_id(synth.stack.storage.access_logs_bucket)
    for name, logical_id in data_bucket_ids(synth).items():
        logging = synth.resources[logical_id]["Properties"]["LoggingConfiguration"]
        assert logging["DestinationBucketName"] == {"Ref": logs_id}, name
        assert logging["LogFilePrefix"].endswith("/"), name


def test_access_log_bucket_admits_s3_log_delivery(synth):
    logs_id = synth.logical_id(synth.stack.storage.access_logs_bucket)
    synth.template.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "Bucket": {"Ref": logs_id},
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Action": "s3:PutObject",
                                "Effect": "Allow",
                                "Principal": {"Service": "logging.s3.amazonaws.com"},
                            }
                        )
                    ]
                )
            },
        },
    )


def test_raw_uploads_expire_after_retention(synth):
    rules = lifecycle_rules(synth, data_bucket_ids(synth)["ingest"])

    assert rules["ExpireRawUploads"]["Prefix"] == "incoming/"
    assert rules["ExpireRawUploads"]["ExpirationInDays"] == 30
    assert rules["ExpireRawUploads"]["Status"] == "Enabled"


def test_run_artifacts_expire_after_retention(synth):
    rules = lifecycle_rules(synth, data_bucket_ids(synth)["artifacts"])

    assert rules["ExpireRunArtifacts"]["Prefix"] == "runs/"
    assert rules["ExpireRunArtifacts"]["ExpirationInDays"] == 14


def test_reports_do_not_expire(synth):
    rules = lifecycle_rules(synth, data_bucket_ids(synth)["output"])

    assert all("ExpirationInDays" not in rule for rule in rules.values())


def test_noncurrent_versions_expire_in_data_buckets(synth):
    for name, logical_id in data_bucket_ids(synth).items():
        rule = lifecycle_rules(synth, logical_id)["ExpireNoncurrentVersions"]
        assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": 7}, name
        assert rule["ExpiredObjectDeleteMarker"] is True, name


def test_retention_days_follow_context():
    synth = synthesize({"raw_retention_days": 3, "artifact_retention_days": 5})
    buckets = data_bucket_ids(synth)

    assert lifecycle_rules(synth, buckets["ingest"])["ExpireRawUploads"]["ExpirationInDays"] == 3
    assert (
        lifecycle_rules(synth, buckets["artifacts"])["ExpireRunArtifacts"]["ExpirationInDays"] == 5
    )


def test_only_ingest_bucket_sends_events_to_eventbridge(synth):
    ingest_id = data_bucket_ids(synth)["ingest"]
    for logical_id, bucket in synth.of_type("AWS::S3::Bucket").items():
        notifications = bucket["Properties"].get("NotificationConfiguration")
        if logical_id == ingest_id:
            assert notifications == {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}
        else:
            assert notifications is None, logical_id


def test_no_custom_resource_by_default(synth):
    custom = [
        logical_id
        for logical_id, resource in synth.resources.items()
        if resource["Type"].startswith("Custom::")
        or resource["Type"] == "AWS::CloudFormation::CustomResource"
    ]
    assert custom == []


def test_remove_data_on_delete_destroys_buckets_and_key(disposable):
    for logical_id, bucket in disposable.of_type("AWS::S3::Bucket").items():
        assert bucket["DeletionPolicy"] == "Delete", logical_id
    disposable.template.has_resource("AWS::KMS::Key", {"DeletionPolicy": "Delete"})
    disposable.template.has_resource_properties("AWS::KMS::Key", {"PendingWindowInDays": 7})


def test_remove_data_on_delete_empties_buckets(disposable):
    disposable.template.resource_count_is("Custom::S3AutoDeleteObjects", 4)


def test_log_groups_encrypted_and_retained(synth):
    key_id = synth.logical_id(synth.stack.storage.key)
    groups = synth.of_type("AWS::Logs::LogGroup")
    assert groups
    for logical_id, group in groups.items():
        assert group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}, logical_id
        assert group["Properties"]["RetentionInDays"] == 365, logical_id


def test_log_groups_retained_by_default(synth):
    groups = synth.of_type("AWS::Logs::LogGroup")

    assert len(groups) == 6
    for logical_id, group in groups.items():
        assert group["DeletionPolicy"] == "Retain", logical_id


def test_remove_data_on_delete_destroys_log_groups(disposable):
    for logical_id, group in disposable.of_type("AWS::Logs::LogGroup").items():
        assert group["DeletionPolicy"] == "Delete", logical_id


def test_key_policy_admits_cloudwatch_logs_for_this_account(synth):
    key = next(iter(synth.of_type("AWS::KMS::Key").values()))
    statements = key["Properties"]["KeyPolicy"]["Statement"]
    logs_statements = [
        statement
        for statement in statements
        if "logs." in str(statement["Principal"].get("Service", ""))
    ]
    assert len(logs_statements) == 1
    assert "kms:EncryptionContext:aws:logs:arn" in logs_statements[0]["Condition"]["ArnLike"]
    assert "kms:Decrypt" in as_list(logs_statements[0]["Action"])

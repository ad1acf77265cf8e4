"""The EventBridge rule that starts one workflow run per table uploaded under `incoming/`."""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from cdk.storage import INCOMING_PREFIX


class Trigger(Construct):
    """Routes S3 "Object Created" events of the ingest bucket to the trigger function.

    The function ignores metadata files and starts an execution named after the object key and
    version, so a repeated event does not start a second run.

    Attributes:
        rule: The EventBridge rule on the default event bus.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        ingest_bucket: s3.IBucket,
        function: lambda_.Function,
        state_machine: sfn.IStateMachine,
        dead_letter_queue: sqs.IQueue,
        key: kms.IKey,
    ) -> None:
        super().__init__(scope, construct_id)
        function.add_environment("STATE_MACHINE_ARN", state_machine.state_machine_arn)
        state_machine.grant_start_execution(function)

        self.rule = events.Rule(
            self,
            "UploadRule",
            description="Start a synthcare run for each table uploaded under incoming/",
            event_pattern=events.EventPattern(
                source=["aws.s3"],
                detail_type=["Object Created"],
                detail={
                    "bucket": {"name": [ingest_bucket.bucket_name]},
                    "object": {"key": [{"prefix": INCOMING_PREFIX}]},
                },
            ),
        )
        self.rule.add_target(
            targets.LambdaFunction(
                function,
                dead_letter_queue=dead_letter_queue,
                retry_attempts=8,
                max_event_age=Duration.hours(6),
            )
        )
        # EventBridge writes undeliverable events to the KMS-encrypted dead-letter queue only if
        # the key policy lets the service use the key.
        # The condition limits the service to rules of this account (confused-deputy
        # protection). Naming the rule's ARN would make a cycle: key, bucket, rule, key.
        key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("events.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
            )
        )

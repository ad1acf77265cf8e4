"""The least-privilege execution role of SageMaker training jobs, transform jobs and models."""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from cdk.nag import acknowledge


class SageMakerRole(Construct):
    """Execution role that SageMaker assumes to run the pipeline's jobs and models.

    This construct grants the data key, the pull of the model image and logs under
    `/aws/sagemaker/`. The workflow grants the S3 paths of each job under `runs/` in the
    artifacts bucket, and `iam:PassRole` on `role` to the state machine.

    Attributes:
        role: The IAM role.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        key: kms.IKey,
        repository: ecr.IRepository,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description="Runs synthcare training jobs, transform jobs and models",
        )
        statements = [
            iam.PolicyStatement(
                sid="UseDataKey",
                # The SageMaker API reference (OutputDataConfig) requires kms:Encrypt for the
                # execution role when the job output names a KmsKeyId.
                actions=["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
                resources=[key.key_arn],
            ),
            # SageMaker creates grants on the key to encrypt the ML storage volumes of jobs.
            iam.PolicyStatement(
                sid="GrantDataKeyToVolumes",
                actions=["kms:CreateGrant"],
                resources=[key.key_arn],
                conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
            ),
            iam.PolicyStatement(
                sid="PullModelImage",
                actions=[
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                ],
                resources=[repository.repository_arn],
            ),
            iam.PolicyStatement(
                sid="GetRegistryToken",
                actions=["ecr:GetAuthorizationToken"],
                resources=["*"],
            ),
            iam.PolicyStatement(
                sid="WriteJobLogs",
                actions=[
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:DescribeLogStreams",
                    "logs:PutLogEvents",
                ],
                resources=[
                    stack.format_arn(
                        service="logs",
                        resource="log-group",
                        resource_name="/aws/sagemaker/*",
                        arn_format=ArnFormat.COLON_RESOURCE_NAME,
                    )
                ],
            ),
            iam.PolicyStatement(
                sid="PutJobMetrics",
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}},
            ),
        ]
        for statement in statements:
            self.role.add_to_principal_policy(statement)

        policy = self.role.node.find_child("DefaultPolicy")
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Resource::*]",
            "ecr:GetAuthorizationToken and cloudwatch:PutMetricData support no resource-level "
            "restriction; metrics are limited to the /aws/sagemaker/ namespaces by condition.",
        )
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:"
            "<AWS::AccountId>:log-group:/aws/sagemaker/*]",
            "SageMaker names its log groups and streams per job type and job name.",
        )

"""The pipeline's Lambda functions, all running one container image with a per-function command."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, IgnoreMode, RemovalPolicy, Size
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from cdk.model_image import REPO_ROOT, build_context_exclude
from cdk.nag import acknowledge, object_arn_finding
from cdk.settings import Settings
from cdk.storage import INCOMING_PREFIX, REPORTS_PREFIX, RUNS_PREFIX

SERVICE_NAME = "synthcare"


@dataclass(frozen=True)
class FunctionSpec:
    """Size and description of one Lambda function.

    Attributes:
        name: Handler package under `functions/`; the image command is
            `functions.<name>.handler.handler`.
        memory_mb: Memory in MB; Lambda scales CPU with it (1,769 MB is one vCPU).
        timeout_seconds: Maximum run time of one invocation.
        ephemeral_storage_mb: Size of `/tmp` in MB.
        description: Function description shown in the console.
    """

    name: str
    memory_mb: int
    timeout_seconds: int
    ephemeral_storage_mb: int
    description: str


# NOTE: sizes are estimates for tables within synthcare's default limits, not measurements on
# AWS. Validate and evaluate hold several copies of the table in pandas. Evaluate also computes
# Gower distances between every synthetic and real row, and publish renders one plot per column.
FUNCTION_SPECS = (
    FunctionSpec("validate", 3008, 300, 2048, "Read, check and profile an uploaded table"),
    FunctionSpec("evaluate", 3008, 900, 2048, "Compute fidelity and privacy of a synthetic table"),
    FunctionSpec("publish", 2048, 300, 1024, "Write report.json, report.html and synthetic.csv"),
    FunctionSpec("failure", 512, 60, 512, "Write error.json for a failed run"),
    FunctionSpec("trigger", 512, 60, 512, "Start one workflow execution per uploaded table"),
)


# EventBridge invokes these asynchronously: the trigger for uploads, and the failure function for
# executions that end without a Catch. The state machine invokes the failure function too.
ASYNCHRONOUS_FUNCTIONS = ("trigger", "failure")


@dataclass(frozen=True)
class PipelineFunctions:
    """The Lambda functions the state machine and the trigger rule call."""

    validate: lambda_.DockerImageFunction
    evaluate: lambda_.DockerImageFunction
    publish: lambda_.DockerImageFunction
    failure: lambda_.DockerImageFunction
    trigger: lambda_.DockerImageFunction


class Functions(Construct):
    """The validate, evaluate, publish, failure and trigger functions, sharing one image asset.

    Each function has its own role, which grants only the bucket prefixes it reads or writes.

    Attributes:
        image: The Lambda image asset built from `containers/lambda/Dockerfile`.
        functions: The five functions, one attribute each.
        dead_letter_queue: Receives the events that the trigger and failure functions, which
            EventBridge invokes asynchronously, failed to handle after their retries. The
            EventBridge rules that target them can send undeliverable events here too.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        key: kms.IKey,
        ingest_bucket: s3.IBucket,
        artifacts_bucket: s3.IBucket,
        output_bucket: s3.IBucket,
    ) -> None:
        super().__init__(scope, construct_id)
        self.image = ecr_assets.DockerImageAsset(
            self,
            "Image",
            directory=str(REPO_ROOT),
            file="containers/lambda/Dockerfile",
            platform=ecr_assets.Platform.LINUX_AMD64,
            exclude=build_context_exclude("functions", "containers/lambda"),
            ignore_mode=IgnoreMode.DOCKER,
            display_name="synthcare Lambda image",
        )

        self._settings = settings
        self._key = key
        environment = {
            "INGEST_BUCKET": ingest_bucket.bucket_name,
            "ARTIFACTS_BUCKET": artifacts_bucket.bucket_name,
            "OUTPUT_BUCKET": output_bucket.bucket_name,
            "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
            # The home directory is read-only in Lambda and matplotlib caches fonts on import.
            "MPLCONFIGDIR": "/tmp/matplotlib",  # noqa: S108 (the only writable path in Lambda)
        }

        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetterQueue",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        acknowledge(
            self.dead_letter_queue,
            "AwsSolutions-SQS3",
            "This queue is itself the dead-letter queue of the asynchronously invoked functions.",
        )

        built = {spec.name: self._function(spec, environment) for spec in FUNCTION_SPECS}
        # Lambda sends failed asynchronous events to the encrypted queue with the function's role.
        for name in ASYNCHRONOUS_FUNCTIONS:
            key.grant(built[name], "kms:GenerateDataKey", "kms:Decrypt")
        self.functions = PipelineFunctions(**built)

        ingest = _BucketAccess(ingest_bucket, key)
        artifacts = _BucketAccess(artifacts_bucket, key)
        output = _BucketAccess(output_bucket, key)
        ingest.allow_read(built["validate"], INCOMING_PREFIX)
        artifacts.allow_write(built["validate"], RUNS_PREFIX)
        artifacts.allow_read(built["evaluate"], RUNS_PREFIX)
        artifacts.allow_write(built["evaluate"], RUNS_PREFIX)
        artifacts.allow_read(built["publish"], RUNS_PREFIX)
        output.allow_write(built["publish"], REPORTS_PREFIX)
        output.allow_write(built["failure"], REPORTS_PREFIX)
        # The failure function checks whether a run's error.json exists before writing one.
        output.allow_list(built["failure"], REPORTS_PREFIX)

    def _function(
        self, spec: FunctionSpec, environment: dict[str, str]
    ) -> lambda_.DockerImageFunction:
        settings = self._settings
        construct_id = spec.name.capitalize()
        asynchronous = spec.name in ASYNCHRONOUS_FUNCTIONS
        log_group = logs.LogGroup(
            self,
            f"{construct_id}Logs",
            encryption_key=self._key,
            retention=settings.log_retention(),
            removal_policy=(
                RemovalPolicy.DESTROY if settings.remove_data_on_delete else RemovalPolicy.RETAIN
            ),
        )
        role = iam.Role(
            self,
            f"{construct_id}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Runs the synthcare {spec.name} function",
        )
        log_group.grant_write(role)
        function = lambda_.DockerImageFunction(
            self,
            construct_id,
            description=spec.description,
            code=lambda_.DockerImageCode.from_ecr(
                self.image.repository,
                tag_or_digest=self.image.image_tag,
                cmd=[f"functions.{spec.name}.handler.handler"],
            ),
            architecture=lambda_.Architecture.X86_64,
            memory_size=spec.memory_mb,
            timeout=Duration.seconds(spec.timeout_seconds),
            ephemeral_storage_size=Size.mebibytes(spec.ephemeral_storage_mb),
            environment=environment,
            environment_encryption=self._key,
            tracing=lambda_.Tracing.ACTIVE,
            logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
            system_log_level_v2=lambda_.SystemLogLevel.WARN,
            log_group=log_group,
            role=role,
            dead_letter_queue=self.dead_letter_queue if asynchronous else None,
            retry_attempts=2 if asynchronous else None,
        )
        _acknowledge_function_findings(function)
        acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            "Active X-Ray tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords, "
            "which support no resource-level restriction.",
        )
        if not asynchronous:
            acknowledge(
                function,
                "HIPAA.Security-LambdaDLQ",
                "Only the state machine invokes this function, synchronously, and its Catch "
                "writes the failure report, so no asynchronous event can be lost.",
            )
        return function


class _BucketAccess:
    """Grants a function explicit object actions under one prefix of a bucket, and the key."""

    def __init__(self, bucket: s3.IBucket, key: kms.IKey) -> None:
        self._bucket = bucket
        self._key = key

    def allow_read(self, function: lambda_.IFunction, prefix: str) -> None:
        self._acknowledge_prefix(function, prefix)
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject", "s3:GetObjectVersion"],
                resources=[self._bucket.arn_for_objects(f"{prefix}*")],
            )
        )
        self.allow_list(function, prefix)
        function.add_to_role_policy(
            iam.PolicyStatement(actions=["kms:Decrypt"], resources=[self._key.key_arn])
        )

    def allow_list(self, function: lambda_.IFunction, prefix: str) -> None:
        # With s3:ListBucket a missing object returns 404 (NoSuchKey) rather than 403, which
        # lets handlers tell "no metadata file" or "no error report yet" from "access denied".
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:ListBucket"],
                resources=[self._bucket.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [f"{prefix}*"]}},
            )
        )

    def allow_write(self, function: lambda_.IFunction, prefix: str) -> None:
        self._acknowledge_prefix(function, prefix)
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:PutObject", "s3:AbortMultipartUpload"],
                resources=[self._bucket.arn_for_objects(f"{prefix}*")],
            )
        )
        # Multipart uploads of SSE-KMS objects need kms:Decrypt as well as GenerateDataKey.
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=[self._key.key_arn]
            )
        )

    def _acknowledge_prefix(self, function: lambda_.IFunction, prefix: str) -> None:
        acknowledge(
            function.role,
            object_arn_finding(self._bucket, prefix),
            f"Object keys under {prefix} contain the upload name or run id, known only at run "
            "time; the grant is limited to that prefix.",
        )


def _acknowledge_function_findings(function: lambda_.DockerImageFunction) -> None:
    acknowledge(
        function,
        "HIPAA.Security-LambdaConcurrency",
        "Reserved concurrency would fail deployment in accounts with the default limit of 10 "
        "unreserved executions; the state machine and the trigger bound the calls instead.",
    )
    acknowledge(
        function,
        "HIPAA.Security-LambdaInsideVPC",
        "The function calls only S3, KMS, SNS, X-Ray and Step Functions APIs over TLS with IAM "
        "auth; a VPC with interface endpoints would add cost without narrowing access.",
    )

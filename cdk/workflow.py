"""The Step Functions state machine that runs one synthcare pipeline run per upload.

Validate (Lambda) -> SageMaker training job -> SageMaker model and batch transform job ->
Evaluate (Lambda) -> Publish (Lambda) -> optional SNS message. SageMaker jobs are started with
aws-sdk request-response calls and polled with Wait and Choice states instead of `.sync`
integrations, so that the same definition also runs under moto.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from aws_cdk import CfnElement, Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from cdk.nag import acknowledge

if TYPE_CHECKING:
    from cdk.settings import Settings

# SageMaker training jobs, models and transform jobs of a run are all named `sc-<run_id>`, so the
# state machine role can be limited to this name prefix. Each resource type has its own name
# space. The trigger caps run ids at 57 characters, and SageMaker names at 63.
JOB_NAME_PREFIX = "sc-"

# Task timeouts. Each Lambda function's own timeout must not be longer than its task timeout.
VALIDATE_TIMEOUT = Duration.minutes(10)
EVALUATE_TIMEOUT = Duration.minutes(15)
PUBLISH_TIMEOUT = Duration.minutes(10)
FAILURE_TIMEOUT = Duration.minutes(5)
API_CALL_TIMEOUT = Duration.minutes(2)

# Batch transform sends the whole request file as one record, so one invocation generates the
# table. SageMaker ends the job when an invocation takes longer than this or fails twice.
TRANSFORM_INVOCATION_TIMEOUT_SECONDS = 600
TRANSFORM_INVOCATION_RETRIES = 1

# Allowance, on top of the training stopping condition, for instance start-up, the transform
# job, the Lambda steps and the polling delay. The state machine timeout is a backstop, because
# both SageMaker jobs end on their own (training at its stopping condition, batch transform
# after its invocation timeout and retries). A timed-out execution gets its error report from
# the `ended_rule` of the construct.
EXECUTION_ALLOWANCE = Duration.hours(3)

TRAINING_VOLUME_GB = 10

# Errors that mean the request was not served and may succeed when repeated. Step Functions names
# aws-sdk errors `<Service>.<ErrorName>`.
# NOTE: the name under which SageMaker throttling reaches Step Functions is not documented, so
# both the modelled name and the generic `SageMaker.SageMakerException` are retried.
LAMBDA_TRANSIENT_ERRORS = [
    "Lambda.ClientExecutionTimeoutException",
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
]
SAGEMAKER_TRANSIENT_ERRORS = [
    "SageMaker.ThrottlingException",
    "SageMaker.SageMakerException",
]

# Pipeline step names as they appear in `error.json`.
STEP_VALIDATE = "validate"
STEP_TRAIN = "train"
STEP_GENERATE = "generate"
STEP_EVALUATE = "evaluate"
STEP_PUBLISH = "publish"
STEP_NOTIFY = "notify"


class WorkflowFunctions(Protocol):
    """The Lambda functions the state machine invokes (other attributes are ignored)."""

    validate: lambda_.IFunction
    evaluate: lambda_.IFunction
    publish: lambda_.IFunction
    failure: lambda_.IFunction


class Workflow(Construct):
    """The synthcare state machine, its log group and the permissions of the roles it drives.

    Execution input: `{"run_id", "dataset", "input": {"bucket", "key", "version_id"}}`, as
    started by the trigger function. On any failure the failure function writes
    `reports/<dataset>/<run_id>/error.json` to the output bucket and the execution fails.

    Attributes:
        state_machine: The standard state machine (X-Ray tracing on, logging level ALL).
        log_group: Execution log group, encrypted with the pipeline key.
        ended_rule: EventBridge rule that sends executions ending as TIMED_OUT, ABORTED or
            FAILED to the failure function, which writes `error.json` if no Catch did.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        ingest_bucket: s3.IBucket,
        artifacts_bucket: s3.IBucket,
        output_bucket: s3.IBucket,
        key: kms.IKey,
        functions: WorkflowFunctions,
        sagemaker_role: iam.IRole,
        training_image_uri: str,
        settings: Settings,
        topic: sns.ITopic | None = None,
    ) -> None:
        """Build the state machine.

        Args:
            scope: Parent construct.
            construct_id: Construct id.
            ingest_bucket: Bucket with the uploads. Unused here, because the functions read its
                name from their environment.
            artifacts_bucket: Bucket for `runs/<run_id>/...`. The SageMaker role gets its run
                paths here.
            output_bucket: Bucket for the reports. The failure function may read error reports.
            key: KMS key for the log group and for the SageMaker volumes and outputs.
            functions: The validate, evaluate, publish and failure functions.
            sagemaker_role: Execution role of the training job and the model.
            training_image_uri: ECR image URI of the synthcare training and serving image.
            settings: Deployment settings (hyperparameters, instance types, poll interval).
            topic: Optional SNS topic that receives a message when a run ends.
        """
        super().__init__(scope, construct_id)
        del ingest_bucket  # The functions address it through their environment variables.
        self._stack = Stack.of(self)
        self._key = key
        self._settings = settings
        self._sagemaker_role = sagemaker_role
        self._image = training_image_uri
        self._artifacts = artifacts_bucket
        self._failed_step_states: dict[str, sfn.Pass] = {}

        self._run_failed = sfn.Fail(
            self,
            "Run failed",
            error="SynthcareRunFailed",
            cause="The run failed. error.json in the output bucket gives the step and the reason.",
        )
        self._write_error_report = self._failure_chain(functions.failure, topic)

        definition = (
            self._name_resources()
            .next(self._validate(functions.validate))
            .next(self._train())
            .next(self._generate())
            .next(self._evaluate(functions.evaluate))
            .next(self._publish(functions.publish))
        )
        if topic is not None:
            definition = definition.next(self._notify_success(topic))
        definition = definition.next(sfn.Succeed(self, "Run succeeded"))

        self.log_group = logs.LogGroup(
            self,
            "Logs",
            encryption_key=key,
            retention=settings.log_retention(),
        )
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            state_machine_type=sfn.StateMachineType.STANDARD,
            timeout=Duration.seconds(settings.training_max_runtime_seconds).plus(
                EXECUTION_ALLOWANCE
            ),
            tracing_enabled=True,
            logs=sfn.LogOptions(
                destination=self.log_group,
                level=sfn.LogLevel.ALL,
                include_execution_data=True,
            ),
        )
        self._grant_state_machine_role(functions, topic)
        self._grant_failure_function(functions.failure, output_bucket)
        self.ended_rule = self._report_unreported_ends(functions.failure)
        self._grant_sagemaker_role()

    # ---- states -------------------------------------------------------------------------------

    def _name_resources(self) -> sfn.Pass:
        run = sfn.JsonPath.string_at("$.run_id")
        bucket = self._artifacts.bucket_name
        return sfn.Pass(
            self,
            "Name run resources",
            comment="SageMaker names and S3 locations of this run, derived from the run id.",
            parameters={
                "job_name": sfn.JsonPath.format(f"{JOB_NAME_PREFIX}{{}}", run),
                "prepared_uri": sfn.JsonPath.format(f"s3://{bucket}/runs/{{}}/prepared/", run),
                "model_uri": sfn.JsonPath.format(f"s3://{bucket}/runs/{{}}/model/", run),
                "request_uri": sfn.JsonPath.format(
                    f"s3://{bucket}/runs/{{}}/generate/request.json", run
                ),
                "generated_uri": sfn.JsonPath.format(f"s3://{bucket}/runs/{{}}/generated/", run),
            },
            result_path="$.names",
        )

    def _validate(self, function: lambda_.IFunction) -> sfn.IChainable:
        settings = self._settings
        task = tasks.LambdaInvoke(
            self,
            "Validate",
            lambda_function=function,
            payload=sfn.TaskInput.from_object(
                {
                    **_run_fields(),
                    "settings": {
                        "rows": settings.rows,
                        "seed": settings.seed,
                        "hyperparameters": settings.hyperparameters(),
                    },
                }
            ),
            result_selector={"summary": sfn.JsonPath.object_at("$.Payload")},
            result_path="$.validation",
            retry_on_service_exceptions=False,
            task_timeout=sfn.Timeout.duration(VALIDATE_TIMEOUT),
        )
        return self._protect_lambda(task, STEP_VALIDATE)

    def _train(self) -> sfn.IChainable:
        settings = self._settings
        key_arn = self._key.key_arn
        start = self._sagemaker_call(
            "Start training job",
            action="createTrainingJob",
            iam_action="sagemaker:CreateTrainingJob",
            resource_type="training-job",
            parameters={
                "TrainingJobName": sfn.JsonPath.string_at("$.names.job_name"),
                "AlgorithmSpecification": {
                    "TrainingImage": self._image,
                    "TrainingInputMode": "File",
                },
                "RoleArn": self._sagemaker_role.role_arn,
                "HyperParameters": settings.hyperparameters(),
                "InputDataConfig": [
                    {
                        "ChannelName": "training",
                        "DataSource": {
                            "S3DataSource": {
                                "S3DataType": "S3Prefix",
                                "S3Uri": sfn.JsonPath.string_at("$.names.prepared_uri"),
                                "S3DataDistributionType": "FullyReplicated",
                            }
                        },
                    }
                ],
                "OutputDataConfig": {
                    "S3OutputPath": sfn.JsonPath.string_at("$.names.model_uri"),
                    "KmsKeyId": key_arn,
                },
                # NOTE: SageMaker rejects VolumeKmsKeyId on instance types with local NVMe
                # storage (for example ml.m5d or ml.g4dn). Those encrypt their volumes anyway.
                "ResourceConfig": {
                    "InstanceType": settings.training_instance_type,
                    "InstanceCount": 1,
                    "VolumeSizeInGB": TRAINING_VOLUME_GB,
                    "VolumeKmsKeyId": key_arn,
                },
                "StoppingCondition": {
                    "MaxRuntimeInSeconds": settings.training_max_runtime_seconds,
                },
                "EnableNetworkIsolation": True,
                "Tags": _run_tags(),
            },
            result_path="$.training_job",
            result_selector={"TrainingJobArn": sfn.JsonPath.string_at("$.TrainingJobArn")},
            step=STEP_TRAIN,
        )

        trained = self._poll_job(
            start,
            job="training",
            describe_fields={"ModelArtifacts": sfn.JsonPath.object_at("$.ModelArtifacts")},
            step=STEP_TRAIN,
        )
        return sfn.Chain.custom(start, [trained], start)

    def _generate(self) -> sfn.IChainable:
        settings = self._settings
        key_arn = self._key.key_arn
        create_model = self._sagemaker_call(
            "Create model",
            action="createModel",
            iam_action="sagemaker:CreateModel",
            resource_type="model",
            parameters={
                "ModelName": sfn.JsonPath.string_at("$.names.job_name"),
                "ExecutionRoleArn": self._sagemaker_role.role_arn,
                "PrimaryContainer": {
                    "Image": self._image,
                    "ModelDataUrl": sfn.JsonPath.string_at(
                        "$.training_job.ModelArtifacts.S3ModelArtifacts"
                    ),
                },
                "EnableNetworkIsolation": True,
                "Tags": _run_tags(),
            },
            result_path="$.model",
            result_selector={"ModelArn": sfn.JsonPath.string_at("$.ModelArn")},
            step=STEP_GENERATE,
        )

        start = self._sagemaker_call(
            "Start transform job",
            action="createTransformJob",
            iam_action="sagemaker:CreateTransformJob",
            resource_type="transform-job",
            parameters={
                "TransformJobName": sfn.JsonPath.string_at("$.names.job_name"),
                "ModelName": sfn.JsonPath.string_at("$.names.job_name"),
                "MaxConcurrentTransforms": 1,
                "BatchStrategy": "SingleRecord",
                "ModelClientConfig": {
                    "InvocationsTimeoutInSeconds": TRANSFORM_INVOCATION_TIMEOUT_SECONDS,
                    "InvocationsMaxRetries": TRANSFORM_INVOCATION_RETRIES,
                },
                "TransformInput": {
                    "DataSource": {
                        "S3DataSource": {
                            "S3DataType": "S3Prefix",
                            "S3Uri": sfn.JsonPath.string_at("$.names.request_uri"),
                        }
                    },
                    "ContentType": "application/json",
                    "SplitType": "None",
                    "CompressionType": "None",
                },
                "TransformOutput": {
                    "S3OutputPath": sfn.JsonPath.string_at("$.names.generated_uri"),
                    "Accept": "text/csv",
                    "AssembleWith": "None",
                    "KmsKeyId": key_arn,
                },
                "TransformResources": {
                    "InstanceType": settings.transform_instance_type,
                    "InstanceCount": 1,
                    "VolumeKmsKeyId": key_arn,
                },
                "Tags": _run_tags(),
            },
            result_path="$.transform_job",
            result_selector={"TransformJobArn": sfn.JsonPath.string_at("$.TransformJobArn")},
            step=STEP_GENERATE,
        )

        create_model.next(start)
        generated = self._poll_job(start, job="transform", describe_fields={}, step=STEP_GENERATE)
        return sfn.Chain.custom(create_model, [generated], create_model)

    def _evaluate(self, function: lambda_.IFunction) -> sfn.IChainable:
        task = tasks.LambdaInvoke(
            self,
            "Evaluate",
            lambda_function=function,
            payload=sfn.TaskInput.from_object(
                {
                    **_run_fields(),
                    "model_artifacts": sfn.JsonPath.string_at(
                        "$.training_job.ModelArtifacts.S3ModelArtifacts"
                    ),
                }
            ),
            result_selector={"summary": sfn.JsonPath.object_at("$.Payload")},
            result_path="$.evaluation",
            retry_on_service_exceptions=False,
            task_timeout=sfn.Timeout.duration(EVALUATE_TIMEOUT),
        )
        return self._protect_lambda(task, STEP_EVALUATE)

    def _publish(self, function: lambda_.IFunction) -> sfn.IChainable:
        task = tasks.LambdaInvoke(
            self,
            "Publish",
            lambda_function=function,
            payload=sfn.TaskInput.from_object(
                {
                    **_run_fields(),
                    "model_artifacts": sfn.JsonPath.string_at(
                        "$.training_job.ModelArtifacts.S3ModelArtifacts"
                    ),
                }
            ),
            result_selector={"summary": sfn.JsonPath.object_at("$.Payload")},
            result_path="$.report",
            retry_on_service_exceptions=False,
            task_timeout=sfn.Timeout.duration(PUBLISH_TIMEOUT),
        )
        return self._protect_lambda(task, STEP_PUBLISH)

    def _notify_success(self, topic: sns.ITopic) -> sfn.IChainable:
        task = tasks.SnsPublish(
            self,
            "Notify success",
            topic=topic,
            subject="synthcare run succeeded",
            message=sfn.TaskInput.from_object(
                {
                    "status": "succeeded",
                    "run_id": sfn.JsonPath.string_at("$.run_id"),
                    "dataset": sfn.JsonPath.string_at("$.dataset"),
                    "report": sfn.JsonPath.object_at("$.report.summary"),
                }
            ),
            result_path=sfn.JsonPath.DISCARD,
            task_timeout=sfn.Timeout.duration(API_CALL_TIMEOUT),
        )
        _retry_transient(task, ["States.TaskFailed"])
        task.add_catch(self._failed_step(STEP_NOTIFY), errors=["States.ALL"], result_path="$.error")
        return task

    def _failure_chain(
        self, function: lambda_.IFunction, topic: sns.ITopic | None
    ) -> sfn.IChainable:
        """Build the error-report path: failure function, optional SNS message, Fail state."""
        write = tasks.LambdaInvoke(
            self,
            "Write error report",
            lambda_function=function,
            payload=sfn.TaskInput.from_object(
                {
                    **_run_fields(),
                    "step": sfn.JsonPath.string_at("$.failed_step"),
                    "error": sfn.JsonPath.object_at("$.error"),
                    "job_name": sfn.JsonPath.string_at("$.names.job_name"),
                }
            ),
            result_selector={"summary": sfn.JsonPath.object_at("$.Payload")},
            result_path="$.error_report",
            retry_on_service_exceptions=False,
            task_timeout=sfn.Timeout.duration(FAILURE_TIMEOUT),
        )
        _retry_transient(write, LAMBDA_TRANSIENT_ERRORS)
        # A failing failure function has nothing left to report to, so the run ends here.
        write.add_catch(self._run_failed, errors=["States.ALL"], result_path="$.error_report_error")
        if topic is None:
            return write.next(self._run_failed)

        notify = tasks.SnsPublish(
            self,
            "Notify failure",
            topic=topic,
            subject="synthcare run failed",
            message=sfn.TaskInput.from_object(
                {
                    "status": "failed",
                    "run_id": sfn.JsonPath.string_at("$.run_id"),
                    "dataset": sfn.JsonPath.string_at("$.dataset"),
                    "error_report": sfn.JsonPath.object_at("$.error_report.summary"),
                }
            ),
            result_path=sfn.JsonPath.DISCARD,
            task_timeout=sfn.Timeout.duration(API_CALL_TIMEOUT),
        )
        _retry_transient(notify, ["States.TaskFailed"])
        notify.add_catch(self._run_failed, errors=["States.ALL"], result_path="$.notify_error")
        return write.next(notify).next(self._run_failed)

    # ---- state helpers ------------------------------------------------------------------------

    def _failed_step(self, step: str) -> sfn.Pass:
        """Return the Pass state that records `step` as failed and leads to the error report."""
        if step not in self._failed_step_states:
            record = sfn.Pass(
                self,
                f"Record failed step {step}",
                result=sfn.Result.from_string(step),
                result_path="$.failed_step",
            )
            record.next(self._write_error_report)
            self._failed_step_states[step] = record
        return self._failed_step_states[step]

    def _protect_lambda(self, task: tasks.LambdaInvoke, step: str) -> tasks.LambdaInvoke:
        _retry_transient(task, LAMBDA_TRANSIENT_ERRORS)
        task.add_catch(self._failed_step(step), errors=["States.ALL"], result_path="$.error")
        return task

    def _sagemaker_call(
        self,
        state_id: str,
        *,
        action: str,
        iam_action: str,
        resource_type: str,
        parameters: dict[str, Any],
        result_path: str,
        result_selector: dict[str, Any],
        step: str,
    ) -> tasks.CallAwsService:
        """Build an aws-sdk SageMaker task with its IAM statement, Retry and Catch.

        `result_selector` keeps only string fields: API timestamps are not JSON strings in
        every Step Functions implementation (moto keeps them as datetime objects).
        """
        resource_arn = self._sagemaker_arn(resource_type)
        extra_statements = []
        if "Tags" in parameters:
            extra_statements.append(
                iam.PolicyStatement(actions=["sagemaker:AddTags"], resources=[resource_arn])
            )
        task = tasks.CallAwsService(
            self,
            state_id,
            service="sagemaker",
            action=action,
            iam_action=iam_action,
            iam_resources=[resource_arn],
            additional_iam_statements=extra_statements or None,
            parameters=parameters,
            result_path=result_path,
            result_selector=result_selector,
            task_timeout=sfn.Timeout.duration(API_CALL_TIMEOUT),
        )
        _retry_transient(task, SAGEMAKER_TRANSIENT_ERRORS)
        task.add_catch(self._failed_step(step), errors=["States.ALL"], result_path="$.error")
        return task

    def _poll_job(
        self,
        start: tasks.CallAwsService,
        *,
        job: str,
        describe_fields: dict[str, Any],
        step: str,
    ) -> sfn.Pass:
        """Chain a wait, a describe call and a status choice after ``start`` until the job ends.

        Args:
            start: the task that created the job. Its result path is the job's, for example
                ``$.training_job`` for ``job="training"``.
            job: ``training`` or ``transform``, which names the states, the API calls, the
                result path and the error of a failed job.
            describe_fields: fields of the describe result kept beside the name and status.
            step: the pipeline step reported when the job fails.

        Returns:
            The state reached when the job has completed, which the caller chains on from.
        """
        label = job.capitalize()
        api = f"{label}Job"
        result_path = f"$.{job}_job"
        wait = sfn.Wait(
            self,
            f"Wait for {job} job",
            time=sfn.WaitTime.duration(Duration.seconds(self._settings.poll_interval_seconds)),
        )
        describe = self._sagemaker_call(
            f"Describe {job} job",
            action=f"describe{api}",
            iam_action=f"sagemaker:Describe{api}",
            resource_type=f"{job}-job",
            parameters={f"{api}Name": sfn.JsonPath.string_at("$.names.job_name")},
            result_path=result_path,
            result_selector={
                f"{api}Name": sfn.JsonPath.string_at(f"$.{api}Name"),
                f"{api}Status": sfn.JsonPath.string_at(f"$.{api}Status"),
                **describe_fields,
            },
            step=step,
        )
        completed = sfn.Pass(self, f"{label} job completed")
        check = self._job_status_choice(
            f"{label} job status",
            status_path=f"{result_path}.{api}Status",
            name_path=f"{result_path}.{api}Name",
            error=f"SageMaker.{api}Failed",
            step=step,
            completed=completed,
            in_progress=wait,
        )
        start.next(wait)
        wait.next(describe)
        describe.next(check)
        return completed

    def _job_status_choice(
        self,
        state_id: str,
        *,
        status_path: str,
        name_path: str,
        error: str,
        step: str,
        completed: sfn.IChainable,
        in_progress: sfn.IChainable,
    ) -> sfn.Choice:
        """Route a SageMaker job status: completed, failed or stopped, or still running.

        A failed or stopped job becomes the error `error` with the job name in the cause. The
        failure function then reads the job's `FailureReason` (for the training container, the
        text it wrote to `/opt/ml/output/failure`), because the optional field cannot be
        selected in the state machine without failing when it is absent.
        """
        ended = sfn.Pass(
            self,
            f"{state_id}: ended",
            parameters={
                "Error": error,
                "Cause": sfn.JsonPath.format(
                    "SageMaker job {} ended with status {}.",
                    sfn.JsonPath.string_at(name_path),
                    sfn.JsonPath.string_at(status_path),
                ),
            },
            result_path="$.error",
        )
        ended.next(self._failed_step(step))
        return (
            sfn.Choice(self, state_id)
            .when(sfn.Condition.string_equals(status_path, "Completed"), completed)
            .when(
                sfn.Condition.or_(
                    sfn.Condition.string_equals(status_path, "Failed"),
                    sfn.Condition.string_equals(status_path, "Stopped"),
                ),
                ended,
            )
            .otherwise(in_progress)
        )

    def _sagemaker_arn(self, resource_type: str) -> str:
        return self._stack.format_arn(
            service="sagemaker",
            resource=resource_type,
            resource_name=f"{JOB_NAME_PREFIX}*",
        )

    def _report_unreported_ends(self, function: lambda_.IFunction) -> events.Rule:
        """Send executions that ended outside the Catch path to the failure function.

        The state machine timeout, a manual stop and a runtime error in the definition end an
        execution without running any Catch, so no step writes `error.json` for them.
        """
        return events.Rule(
            self,
            "RunEndedRule",
            description="Writes error.json for synthcare runs that timed out, stopped or failed",
            event_pattern=events.EventPattern(
                source=["aws.states"],
                detail_type=["Step Functions Execution Status Change"],
                detail={
                    "status": ["TIMED_OUT", "ABORTED", "FAILED"],
                    "stateMachineArn": [self.state_machine.state_machine_arn],
                },
            ),
            targets=[
                targets.LambdaFunction(function, retry_attempts=4, max_event_age=Duration.hours(2))
            ],
        )

    # ---- permissions --------------------------------------------------------------------------

    def _grant_state_machine_role(
        self, functions: WorkflowFunctions, topic: sns.ITopic | None
    ) -> None:
        """Add iam:PassRole and the SNS grant, and acknowledge the role's wildcard findings.

        The SageMaker and Lambda statements come from the task states themselves.
        """
        role = self.state_machine.role
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[self._sagemaker_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            )
        )
        if topic is not None:
            topic.grant_publish(role)
            acknowledge(
                role,
                "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
                "Publishing to the KMS-encrypted topic needs data keys of the topic's key only.",
            )

        for resource_type in ("training-job", "model", "transform-job"):
            acknowledge(
                role,
                f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:"
                f"<AWS::AccountId>:{resource_type}/{JOB_NAME_PREFIX}*]",
                "SageMaker names are derived from each run id at run time, so the policy is "
                f"limited to the '{JOB_NAME_PREFIX}' prefix that every synthcare name starts with.",
            )
        for function in (
            functions.validate,
            functions.evaluate,
            functions.publish,
            functions.failure,
        ):
            reference = self._arn_reference(function)
            if reference is not None:
                acknowledge(
                    role,
                    f"AwsSolutions-IAM5[Resource::{reference}:*]",
                    "CDK grants invoke on the function and its versions; the workflow invokes "
                    "only the function itself.",
                )
        acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray trace upload and CloudWatch Logs delivery management support no "
            "resource-level permissions.",
        )

    def _grant_failure_function(
        self, function: lambda_.IFunction, output_bucket: s3.IBucket
    ) -> None:
        """Let the failure function read failed jobs' `FailureReason` and existing error reports."""
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject"],
                resources=[output_bucket.arn_for_objects("reports/*/error.json")],
            )
        )
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["sagemaker:DescribeTrainingJob", "sagemaker:DescribeTransformJob"],
                resources=[
                    self._sagemaker_arn("training-job"),
                    self._sagemaker_arn("transform-job"),
                ],
            )
        )
        if function.role is None:
            return
        reference = self._arn_reference(output_bucket)
        if reference is not None:
            acknowledge(
                function.role,
                f"AwsSolutions-IAM5[Resource::{reference}/reports/*/error.json]",
                "The function checks whether a run already has its error report, and run ids "
                "are known only at run time.",
            )
        for resource_type in ("training-job", "transform-job"):
            acknowledge(
                function.role,
                "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:"
                f"<AWS::AccountId>:{resource_type}/{JOB_NAME_PREFIX}*]",
                "Job names are derived from each run id at run time, so the policy is "
                f"limited to the '{JOB_NAME_PREFIX}' prefix of every synthcare job.",
            )

    def _grant_sagemaker_role(self) -> None:
        """Give the SageMaker role the S3 run paths its training and transform jobs use.

        Training reads `prepared/` and writes `model/`. The model reads `model/`, and batch
        transform reads `generate/` and writes `generated/`. The key use comes with the role.
        """
        role = self._sagemaker_role
        bucket = self._artifacts
        read_paths = ("runs/*/prepared/*", "runs/*/generate/*", "runs/*/model/*")
        write_paths = ("runs/*/model/*", "runs/*/generated/*")
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:ListBucket"],
                resources=[bucket.bucket_arn],
                conditions={
                    "StringLike": {"s3:prefix": ["runs/*/prepared/*", "runs/*/generate/*"]}
                },
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject"],
                resources=[bucket.arn_for_objects(path) for path in read_paths],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:PutObject", "s3:AbortMultipartUpload"],
                resources=[bucket.arn_for_objects(path) for path in write_paths],
            )
        )
        reference = self._arn_reference(bucket)
        if reference is not None:
            for path in sorted(set(read_paths + write_paths)):
                acknowledge(
                    role,
                    f"AwsSolutions-IAM5[Resource::{reference}/{path}]",
                    "Run ids are known only at run time; each job reaches only its step's "
                    "folder under runs/.",
                )

    def _arn_reference(self, construct: Construct) -> str | None:
        """Return how cdk-nag writes the ARN of a resource in a finding: `<LogicalId.Arn>`."""
        resource = construct.node.default_child
        if not isinstance(resource, CfnElement):
            return None
        return f"<{self._stack.resolve(self._stack.get_logical_id(resource))}.Arn>"


def _run_fields() -> dict[str, Any]:
    """Return the payload fields that identify a run, copied from the execution input."""
    return {
        "run_id": sfn.JsonPath.string_at("$.run_id"),
        "dataset": sfn.JsonPath.string_at("$.dataset"),
        "input": sfn.JsonPath.object_at("$.input"),
    }


def _run_tags() -> list[dict[str, Any]]:
    return [{"Key": "synthcare:run-id", "Value": sfn.JsonPath.string_at("$.run_id")}]


def _retry_transient(state: sfn.TaskStateBase, errors: list[str]) -> None:
    state.add_retry(
        errors=errors,
        interval=Duration.seconds(2),
        max_attempts=5,
        backoff_rate=2.0,
        max_delay=Duration.seconds(60),
        jitter_strategy=sfn.JitterType.FULL,
    )

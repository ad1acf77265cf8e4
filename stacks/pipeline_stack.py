"""The synthcare pipeline stack: storage, images, functions, workflow, trigger and extras."""

from __future__ import annotations

from aws_cdk import CfnOutput, RemovalPolicy, Stack
from constructs import Construct

from cdk.endpoint import Endpoint
from cdk.functions import Functions
from cdk.model_image import ModelImage
from cdk.nag import acknowledge_stack_findings
from cdk.notifications import Notifications
from cdk.sagemaker_role import SageMakerRole
from cdk.settings import Settings
from cdk.storage import Storage
from cdk.trigger import Trigger
from cdk.workflow import Workflow


class PipelineStack(Stack):
    """Everything one synthcare deployment needs, configured by `Settings`.

    Attributes:
        settings: The validated settings the stack was built with.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, settings: Settings | None = None, **kwargs
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.settings = settings if settings is not None else Settings.from_context(self.node)

        self.storage = Storage(self, "Storage", settings=self.settings)
        self.model_image = ModelImage(self, "ModelImage")
        self.sagemaker_role = SageMakerRole(
            self,
            "SageMaker",
            key=self.storage.key,
            repository=self.model_image.asset.repository,
        ).role
        self.functions = Functions(
            self,
            "Functions",
            settings=self.settings,
            key=self.storage.key,
            ingest_bucket=self.storage.ingest_bucket,
            artifacts_bucket=self.storage.artifacts_bucket,
            output_bucket=self.storage.output_bucket,
        )
        self.notifications = (
            Notifications(
                self, "Notifications", email=self.settings.notification_email, key=self.storage.key
            )
            if self.settings.notification_email
            else None
        )
        self.workflow = Workflow(
            self,
            "Workflow",
            ingest_bucket=self.storage.ingest_bucket,
            artifacts_bucket=self.storage.artifacts_bucket,
            output_bucket=self.storage.output_bucket,
            key=self.storage.key,
            functions=self.functions.functions,
            sagemaker_role=self.sagemaker_role,
            training_image_uri=self.model_image.image_uri,
            settings=self.settings,
            topic=self.notifications.topic if self.notifications is not None else None,
        )
        # Like every other log group of the stack, the execution log may hold run details, so
        # it is kept on `cdk destroy` unless the settings say to remove data.
        self.workflow.log_group.apply_removal_policy(
            RemovalPolicy.DESTROY if self.settings.remove_data_on_delete else RemovalPolicy.RETAIN
        )
        self.trigger = Trigger(
            self,
            "Trigger",
            ingest_bucket=self.storage.ingest_bucket,
            function=self.functions.functions.trigger,
            state_machine=self.workflow.state_machine,
            dead_letter_queue=self.functions.dead_letter_queue,
            key=self.storage.key,
        )
        self.endpoint = (
            Endpoint(
                self,
                "Endpoint",
                settings=self.settings,
                image_uri=self.model_image.image_uri,
                role=self.sagemaker_role,
            )
            if self.settings.endpoint
            else None
        )
        acknowledge_stack_findings(self)
        self._outputs()

    def _outputs(self) -> None:
        storage = self.storage
        CfnOutput(
            self,
            "IngestBucketName",
            value=storage.ingest_bucket.bucket_name,
            description="Upload tables to s3://<this bucket>/incoming/",
        )
        CfnOutput(
            self,
            "ArtifactsBucketName",
            value=storage.artifacts_bucket.bucket_name,
            description="Intermediate files of each run under runs/<run_id>/",
        )
        CfnOutput(
            self,
            "OutputBucketName",
            value=storage.output_bucket.bucket_name,
            description="Reports under reports/<dataset>/<run_id>/",
        )
        CfnOutput(self, "AccessLogsBucketName", value=storage.access_logs_bucket.bucket_name)
        CfnOutput(self, "KeyArn", value=storage.key.key_arn)
        CfnOutput(self, "StateMachineArn", value=self.workflow.state_machine.state_machine_arn)
        CfnOutput(
            self,
            "DeadLetterQueueUrl",
            value=self.functions.dead_letter_queue.queue_url,
            description="Events that could not start a run or write its error report",
        )
        if self.notifications is not None:
            CfnOutput(self, "TopicArn", value=self.notifications.topic.topic_arn)
        if self.endpoint is not None:
            CfnOutput(self, "EndpointName", value=self.endpoint.endpoint.attr_endpoint_name)

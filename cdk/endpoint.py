"""The optional SageMaker serverless endpoint that generates rows on request from one model."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from cdk.nag import acknowledge
from cdk.settings import Settings


class Endpoint(Construct):
    """Serverless SageMaker endpoint serving the model at `settings.endpoint_model_data_url`.

    The model runs the CTGAN image's `serve` entry point. Serverless inference bills per
    request and per GB-second of memory, and costs nothing while idle.

    Attributes:
        model: The SageMaker model.
        endpoint: The endpoint; its name is a stack output.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        image_uri: str,
        role: iam.IRole,
    ) -> None:
        super().__init__(scope, construct_id)

        self.model = sagemaker.CfnModel(
            self,
            "Model",
            execution_role_arn=role.role_arn,
            primary_container=sagemaker.CfnModel.ContainerDefinitionProperty(
                image=image_uri,
                model_data_url=settings.endpoint_model_data_url,
                mode="SingleModel",
            ),
        )
        # The model must exist only after the role's policy allows it to read the model data.
        self.model.node.add_dependency(role)

        config = sagemaker.CfnEndpointConfig(
            self,
            "Config",
            production_variants=[
                sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                    variant_name="AllTraffic",
                    model_name=self.model.attr_model_name,
                    serverless_config=sagemaker.CfnEndpointConfig.ServerlessConfigProperty(
                        memory_size_in_mb=settings.endpoint_memory_mb,
                        max_concurrency=settings.endpoint_max_concurrency,
                    ),
                )
            ],
        )

        # NOTE: KmsKeyId encrypts the ML storage volume of instance-based variants; a serverless
        # variant has no such volume, so none is set.
        reason = "A serverless variant has no ML storage volume for KmsKeyId to encrypt."
        acknowledge(config, "AwsSolutions-SM2", reason)
        acknowledge(config, "HIPAA.Security-SageMakerEndpointConfigurationKMSKeyConfigured", reason)
        acknowledge(
            self.model,
            "AwsSolutions-SM1",
            "SageMaker Serverless Inference supports neither VPC configuration nor network "
            "isolation; the endpoint is reachable only through the SageMaker API with IAM auth.",
        )

        self.endpoint = sagemaker.CfnEndpoint(
            self, "Endpoint", endpoint_config_name=config.attr_endpoint_config_name
        )

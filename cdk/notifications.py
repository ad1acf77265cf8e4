"""The optional SNS topic that e-mails the result of each run."""

from __future__ import annotations

from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct


class Notifications(Construct):
    """KMS-encrypted, TLS-only SNS topic with one e-mail subscription.

    The subscriber must confirm the subscription from the e-mail AWS sends after deployment.

    Attributes:
        topic: The topic the workflow publishes run results to.
    """

    def __init__(self, scope: Construct, construct_id: str, *, email: str, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        self.topic = sns.Topic(
            self,
            "Topic",
            display_name="synthcare run results",
            master_key=key,
            enforce_ssl=True,
        )
        self.topic.add_subscription(subscriptions.EmailSubscription(email))

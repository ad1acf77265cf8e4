"""Stand the synthesized stack up in moto: resources, handlers, SageMaker jobs, state machine."""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
from moto import mock_aws
from moto.events.models import EventPattern

from . import moto_fixes
from .intrinsics import UnresolvedReference, referenced_logical_ids, resolve
from .lambdas import FunctionBinding, LambdaRouter
from .sagemaker import SageMakerJobs
from .synth import Synthesized

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
PARTITION = "aws"

MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}}

# Credentials and region for every client in the process, so nothing looks further (no
# profile, no instance metadata) and moto maps every call to one account.
TEST_ENVIRON = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
}
CLEARED_ENVIRON = (
    "AWS_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
)

# Services the harness, the handlers and moto's state machine interpreter call.
SERVICES = (
    "s3",
    "lambda",
    "stepfunctions",
    "sagemaker",
    "iam",
    "sns",
    "kms",
    "logs",
    "sqs",
    "events",
)

_BUCKET_CHARACTERS = re.compile(r"[^a-z0-9-]")
FINAL_STATUSES = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


@dataclass
class PhysicalResource:
    """The moto resource that represents one template resource, with its CloudFormation values.

    Attributes:
        logical_id: Logical id in the template.
        resource_type: CloudFormation type.
        ref: Value of `Ref`.
        attributes: Values of `Fn::GetAtt` by attribute name.
    """

    logical_id: str
    resource_type: str
    ref: str
    attributes: dict[str, str] = field(default_factory=dict)


class MotoStack:
    """Creates, on first reference, a moto resource for each template resource that is named.

    Only resources that the state machine definition or a function's environment refer to are
    created, each with the role it has in the template. A bucket keeps the template's
    versioning, and a function keeps its image command, memory and timeout.
    """

    def __init__(self, synthesized: Synthesized, clients: dict[str, Any]) -> None:
        self.synthesized = synthesized
        self.clients = clients
        self.resources: dict[str, PhysicalResource] = {}
        self.functions: dict[str, FunctionBinding] = {}
        self.function_environments: dict[str, dict[str, str]] = {}
        self.pseudo = {
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::Region": REGION,
            "AWS::Partition": PARTITION,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": synthesized.stack_name,
            "AWS::StackId": (
                f"arn:aws:cloudformation:{REGION}:{ACCOUNT_ID}:stack/"
                f"{synthesized.stack_name}/00000000-0000-0000-0000-000000000000"
            ),
        }

    def resolve(self, value: Any) -> Any:
        """Resolve intrinsic functions in `value`, creating the resources they name."""
        return resolve(value, self.lookup, self.pseudo)

    def lookup(self, logical_id: str, attribute: str | None) -> str:
        """Return `Ref` (attribute None) or `Fn::GetAtt` of a logical id."""
        resource = self.resources.get(logical_id) or self._create(logical_id)
        if attribute is None:
            return resource.ref
        if attribute not in resource.attributes:
            raise UnresolvedReference(
                f"{logical_id} ({resource.resource_type}) has no attribute {attribute} "
                "in the harness"
            )
        return resource.attributes[attribute]

    def _create(self, logical_id: str) -> PhysicalResource:
        if logical_id not in self.synthesized.resources:
            raise UnresolvedReference(f"{logical_id} is not a resource of the template")
        template_resource = self.synthesized.resources[logical_id]
        resource_type = template_resource["Type"]
        properties = template_resource.get("Properties", {})
        creators = {
            "AWS::S3::Bucket": self._bucket,
            "AWS::IAM::Role": self._role,
            "AWS::Lambda::Function": self._function,
            "AWS::StepFunctions::StateMachine": self._state_machine_names,
            "AWS::SNS::Topic": self._topic,
            "AWS::KMS::Key": self._key,
            "AWS::Logs::LogGroup": self._log_group,
            "AWS::SQS::Queue": self._queue,
        }
        if resource_type not in creators:
            raise UnresolvedReference(
                f"{logical_id} has type {resource_type}, which the harness does not create"
            )
        resource = creators[resource_type](logical_id, properties)
        self.resources[logical_id] = resource
        return resource

    def _bucket(self, logical_id: str, properties: dict[str, Any]) -> PhysicalResource:
        name = _BUCKET_CHARACTERS.sub("-", f"e2e-{logical_id.lower()}")[:63].rstrip("-")
        s3 = self.clients["s3"]
        s3.create_bucket(Bucket=name)
        versioning = properties.get("VersioningConfiguration", {}).get("Status")
        if versioning:
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": versioning})
        return PhysicalResource(
            logical_id,
            "AWS::S3::Bucket",
            name,
            {
                "Arn": f"arn:{PARTITION}:s3:::{name}",
                "DomainName": f"{name}.s3.amazonaws.com",
                "RegionalDomainName": f"{name}.s3.{REGION}.amazonaws.com",
            },
        )

    def _role(self, logical_id: str, properties: dict[str, Any]) -> PhysicalResource:
        name = f"e2e-{logical_id}"[:64]
        trust = self.resolve(properties.get("AssumeRolePolicyDocument", {}))
        role = self.clients["iam"].create_role(
            RoleName=name, AssumeRolePolicyDocument=json.dumps(trust)
        )["Role"]
        return PhysicalResource(
            logical_id, "AWS::IAM::Role", name, {"Arn": role["Arn"], "RoleId": role["RoleId"]}
        )

    def _function(self, logical_id: str, properties: dict[str, Any]) -> PhysicalResource:
        name = f"e2e-{logical_id}"[:64]
        arn = f"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT_ID}:function:{name}"
        # Register names before resolving the environment, because the environment may name
        # the state machine, whose definition in turn names this function.
        resource = PhysicalResource(logical_id, "AWS::Lambda::Function", name, {"Arn": arn})
        self.resources[logical_id] = resource

        command = properties.get("ImageConfig", {}).get("Command") or [properties.get("Handler")]
        if not command or not command[0]:
            raise UnresolvedReference(
                f"function {logical_id} has neither an image command nor a handler"
            )
        role = self.resolve(properties["Role"])
        environment = self.resolve(properties.get("Environment", {}).get("Variables", {}))
        code = self.resolve(properties.get("Code", {}))
        memory = int(properties.get("MemorySize", 128))
        timeout = int(properties.get("Timeout", 3))

        arguments: dict[str, Any] = {
            "FunctionName": name,
            "Role": role,
            "Timeout": timeout,
            "MemorySize": memory,
            "Environment": {"Variables": environment},
        }
        if "ImageUri" in code:
            arguments.update(
                PackageType="Image",
                Code={"ImageUri": code["ImageUri"]},
                ImageConfig={"Command": command},
            )
        else:
            arguments.update(
                Runtime=properties.get("Runtime", "python3.11"),
                Handler=command[0],
                Code={"ZipFile": b"placeholder: the harness runs the handler in-process"},
            )
        self.clients["lambda"].create_function(**arguments)
        self.functions[name] = FunctionBinding(
            function_name=name,
            function_arn=arn,
            command=command[0],
            memory_mb=memory,
            timeout_seconds=timeout,
        )
        self.function_environments[name] = environment
        return resource

    def _state_machine_names(self, logical_id: str, properties: dict[str, Any]) -> PhysicalResource:
        # The state machine is created last (see Pipeline), but its ARN is known in advance.
        name = f"e2e-{logical_id}"[:80]
        arn = f"arn:{PARTITION}:states:{REGION}:{ACCOUNT_ID}:stateMachine:{name}"
        return PhysicalResource(
            logical_id, "AWS::StepFunctions::StateMachine", arn, {"Arn": arn, "Name": name}
        )

    def _topic(self, logical_id: str, properties: dict[str, Any]) -> PhysicalResource:
        name = f"e2e-{logical_id}"[:256]
        arn = self.clients["sns"].create_topic(Name=name)["TopicArn"]
        return PhysicalResource(
            logical_id, "AWS::SNS::Topic", arn, {"TopicArn": arn, "TopicName": name}
        )

    def _key(self, logical_id: str, properties: dict[str, Any]) -> PhysicalResource:
        metadata = self.clients["kms"].create_key(Description=f"e2e {logical_id}")["KeyMetadata"]
        return PhysicalResource(
            logical_id,
            "AWS::KMS::Key",
            metadata["KeyId"],
            {"Arn": metadata["Arn"], "KeyId": metadata["KeyId"]},
        )

    def _log_group(self, logical_id: str, properties: dict[str, Any]) -> PhysicalResource:
        name = f"/e2e/{logical_id}"
        self.clients["logs"].create_log_group(logGroupName=name)
        arn = f"arn:{PARTITION}:logs:{REGION}:{ACCOUNT_ID}:log-group:{name}:*"
        return PhysicalResource(logical_id, "AWS::Logs::LogGroup", name, {"Arn": arn})

    def _queue(self, logical_id: str, properties: dict[str, Any]) -> PhysicalResource:
        name = f"e2e-{logical_id}"[:80]
        url = self.clients["sqs"].create_queue(QueueName=name)["QueueUrl"]
        arn = f"arn:{PARTITION}:sqs:{REGION}:{ACCOUNT_ID}:{name}"
        return PhysicalResource(
            logical_id, "AWS::SQS::Queue", url, {"Arn": arn, "QueueName": name, "QueueUrl": url}
        )


def resolve_definition(stack: MotoStack, properties: dict[str, Any]) -> str:
    """Return the state machine definition string with every reference resolved.

    CDK writes the definition as `DefinitionString` (a string or an `Fn::Join` of literal
    pieces and references). `DefinitionSubstitutions`, if present, are applied as
    CloudFormation applies them.
    """
    if "DefinitionString" in properties:
        definition = stack.resolve(properties["DefinitionString"])
    elif "Definition" in properties:
        definition = json.dumps(stack.resolve(properties["Definition"]))
    else:
        raise UnresolvedReference("the state machine has no inline definition")
    for name, value in stack.resolve(properties.get("DefinitionSubstitutions", {})).items():
        definition = definition.replace("${" + name + "}", str(value))
    return definition


@dataclass(frozen=True)
class Upload:
    """One object put into the ingest bucket.

    Attributes:
        bucket: Ingest bucket name.
        key: Object key.
        version_id: Version id that S3 assigned.
        body: The bytes uploaded.
        etag: The object's ETag without quotes.
    """

    bucket: str
    key: str
    version_id: str
    body: bytes
    etag: str


class Pipeline:
    """The synthesized stack running in moto, with every task bound to the project's code.

    Use as a context manager. On entry it starts moto with state machine execution on and
    creates every backend and client on the calling thread. It then creates the resources the
    state machine names, imports the handlers, installs the Lambda and SageMaker hooks and
    creates the state machine with the resolved definition. On exit it waits for running
    executions and jobs, then stops everything.

    Args:
        synthesized: The synthesized stack.
        workdir: Folder for the SageMaker jobs' local roots.
        cache_dir: Folder for caches that outlive one pipeline (matplotlib's font cache).
        max_jobs: SageMaker jobs that run at the same time.
    """

    def __init__(
        self,
        synthesized: Synthesized,
        workdir: Path,
        *,
        cache_dir: Path | None = None,
        max_jobs: int = 2,
    ) -> None:
        self.synthesized = synthesized
        self.workdir = workdir
        self.cache_dir = cache_dir or workdir / "cache"
        self.max_jobs = max_jobs
        self._exit = contextlib.ExitStack()
        self.clients: dict[str, Any] = {}
        self.stack: MotoStack
        self.router = LambdaRouter()
        self.jobs: SageMakerJobs
        self.state_machine_arn = ""
        self.definition = ""
        self.trigger_function = ""
        self.buckets: dict[str, str] = {}
        self.event_pattern: dict[str, Any] | None = None

    # -- set-up -----------------------------------------------------------------------------

    def __enter__(self) -> Pipeline:
        try:
            self._start()
        except BaseException:
            self._exit.close()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._exit.close()

    def _start(self) -> None:
        environ = dict(TEST_ENVIRON)
        self._exit.enter_context(mock.patch.dict(os.environ, environ))
        for name in CLEARED_ENVIRON:
            os.environ.pop(name, None)
        self._exit.enter_context(mock_aws(config=MOTO_CONFIG))

        # boto3's default session is not thread-safe. Create it and one client per service here,
        # on one thread, so its lazily built parts exist before any execution thread runs. Later
        # client creation is serialised (see moto_fixes).
        boto3.setup_default_session(region_name=REGION)
        for service in SERVICES:
            boto3.client(service, region_name=REGION)
        moto_fixes.install(self._exit)

        # The harness's own clients come from a separate session, created on this thread.
        session = boto3.session.Session(region_name=REGION)
        self.clients = {service: session.client(service) for service in SERVICES}
        self._warm_backends()

        self.stack = MotoStack(self.synthesized, self.clients)
        sm_id, sm_resource = self.synthesized.state_machine()
        properties = sm_resource["Properties"]
        self.definition = resolve_definition(self.stack, properties)
        self._resolve_trigger()

        # Handlers read their settings from the environment, as on Lambda. All functions of one
        # process share os.environ, so their variables must agree.
        handler_environ: dict[str, str] = {}
        for function_name, variables in self.stack.function_environments.items():
            for key, value in variables.items():
                if key in handler_environ and handler_environ[key] != value:
                    raise AssertionError(
                        f"function {function_name} sets {key}={value!r} but another function "
                        f"sets {handler_environ[key]!r}. Handlers that run in one process "
                        "share one environment, so the values must agree."
                    )
                handler_environ[key] = str(value)
        # The template points matplotlib at Lambda's writable /tmp. Here it is the cache folder.
        handler_environ["MPLCONFIGDIR"] = str(self.cache_dir / "matplotlib")
        os.environ.update(handler_environ)
        self.buckets = {
            key: value for key, value in handler_environ.items() if key.endswith("_BUCKET")
        }

        for binding in self.stack.functions.values():
            self.router.add(binding)
        self._exit.enter_context(self.router.patch())

        self.jobs = SageMakerJobs(
            self.clients["s3"],
            self.workdir,
            self.cache_dir / "matplotlib",
            max_workers=self.max_jobs,
        )
        self._exit.callback(self.jobs.shutdown)
        for patcher in self.jobs.patches():
            self._exit.enter_context(patcher)
        # Runs before the pool shuts down: executions must end while moto is still running.
        self._exit.callback(self._wait_for_running_executions)

        role_arn = self.stack.resolve(properties["RoleArn"])
        name = self.stack.lookup(sm_id, "Name")
        created = self.clients["stepfunctions"].create_state_machine(
            name=name,
            definition=self.definition,
            roleArn=role_arn,
            type=properties.get("StateMachineType", "STANDARD"),
        )
        self.state_machine_arn = created["stateMachineArn"]
        if self.state_machine_arn != self.stack.lookup(sm_id, None):
            raise AssertionError("the state machine ARN differs from the one resolved in advance")

    def _warm_backends(self) -> None:
        # moto creates each backend on first use, so create them all now, on this thread.
        self.clients["s3"].list_buckets()
        self.clients["lambda"].list_functions()
        self.clients["stepfunctions"].list_state_machines()
        self.clients["sagemaker"].list_training_jobs()
        self.clients["sagemaker"].list_transform_jobs()
        self.clients["sagemaker"].list_models()
        self.clients["iam"].list_roles()
        self.clients["sns"].list_topics()
        self.clients["kms"].list_keys()
        self.clients["logs"].describe_log_groups()
        self.clients["sqs"].list_queues()
        self.clients["events"].list_rules()

    def _resolve_trigger(self) -> None:
        # The EventBridge rule that targets the trigger function names the ingest bucket and the
        # function. Resolving it creates both and gives the pattern that uploads must match.
        rules = self.synthesized.of_type("AWS::Events::Rule")
        for rule in rules.values():
            properties = rule.get("Properties", {})
            pattern = properties.get("EventPattern", {})
            if "aws.s3" not in pattern.get("source", []):
                continue
            targets = properties.get("Targets", [])
            function_ids = [
                logical_id
                for target in targets
                for logical_id in referenced_logical_ids(target.get("Arn"))
                if self.synthesized.resources[logical_id]["Type"] == "AWS::Lambda::Function"
            ]
            if len(function_ids) != 1:
                raise AssertionError(
                    f"the upload rule targets {function_ids}, expected one function"
                )
            self.event_pattern = self.stack.resolve(pattern)
            self.stack.lookup(function_ids[0], "Arn")
            self.trigger_function = self.stack.lookup(function_ids[0], None)
            return
        raise AssertionError("the template has no EventBridge rule for S3 uploads")

    # -- uploads and the trigger --------------------------------------------------------------

    @property
    def ingest_bucket(self) -> str:
        """Physical name of the ingest bucket."""
        return self.buckets["INGEST_BUCKET"]

    @property
    def output_bucket(self) -> str:
        """Physical name of the output bucket."""
        return self.buckets["OUTPUT_BUCKET"]

    @property
    def artifacts_bucket(self) -> str:
        """Physical name of the artifacts bucket."""
        return self.buckets["ARTIFACTS_BUCKET"]

    def upload(self, key: str, body: bytes) -> Upload:
        """Put an object into the ingest bucket and return what S3 recorded."""
        answer = self.clients["s3"].put_object(Bucket=self.ingest_bucket, Key=key, Body=body)
        version_id = answer.get("VersionId")
        if not version_id or version_id == "null":
            raise AssertionError(
                "the ingest bucket returned no version id, so versioning is off in the template"
            )
        return Upload(self.ingest_bucket, key, version_id, body, answer["ETag"].strip('"'))

    def object_created_event(self, upload: Upload) -> dict[str, Any]:
        """Build the EventBridge event S3 sends for `upload`, from the stored object.

        The event must match the template's rule pattern, or the deployed rule would not
        deliver it. moto's EventBridge pattern matcher checks that.
        """
        head = self.clients["s3"].head_object(
            Bucket=upload.bucket, Key=upload.key, VersionId=upload.version_id
        )
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Object Created",
            "source": "aws.s3",
            "account": ACCOUNT_ID,
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": REGION,
            "resources": [f"arn:{PARTITION}:s3:::{upload.bucket}"],
            "detail": {
                "version": "0",
                "bucket": {"name": upload.bucket},
                "object": {
                    # NOTE: the harness uploads keys made of URL-safe characters only, so the
                    # question whether S3 URL-encodes keys in EventBridge events does not arise.
                    "key": upload.key,
                    "size": head["ContentLength"],
                    "etag": head["ETag"].strip('"'),
                    "version-id": head["VersionId"],
                    "sequencer": f"{time.time_ns():018X}",
                },
                "request-id": uuid.uuid4().hex[:16].upper(),
                "requester": ACCOUNT_ID,
                "source-ip-address": "127.0.0.1",
                "reason": "PutObject",
            },
        }
        if self.event_pattern is None or not EventPattern.load(
            json.dumps(self.event_pattern)
        ).matches_event(event):
            raise AssertionError(f"the upload rule pattern {self.event_pattern} rejects {event}")
        return event

    def deliver(self, event: dict[str, Any]) -> Any:
        """Invoke the trigger function with `event` through moto's Lambda API.

        EventBridge invokes the function asynchronously. The harness waits for the result, so a
        trigger error fails the test instead of going to a dead-letter queue.
        """
        answer = self.clients["lambda"].invoke(
            FunctionName=self.trigger_function,
            InvocationType="RequestResponse",
            Payload=json.dumps(event).encode("utf-8"),
        )
        payload = json.loads(answer["Payload"].read() or b"null")
        if answer.get("FunctionError"):
            raise AssertionError(f"the trigger function failed: {payload}")
        return payload

    # -- executions ---------------------------------------------------------------------------

    def executions(self) -> list[dict[str, Any]]:
        """Return every execution of the state machine."""
        paginator = self.clients["stepfunctions"].get_paginator("list_executions")
        found: list[dict[str, Any]] = []
        for page in paginator.paginate(stateMachineArn=self.state_machine_arn):
            found.extend(page["executions"])
        return found

    def wait(self, execution_arns: list[str], timeout: float = 240.0) -> dict[str, dict[str, Any]]:
        """Poll until every execution has ended and return their descriptions by ARN.

        Raises:
            AssertionError: An execution still runs after `timeout` seconds.
        """
        sfn = self.clients["stepfunctions"]
        deadline = time.monotonic() + timeout
        ended: dict[str, dict[str, Any]] = {}
        while True:
            for arn in execution_arns:
                if arn in ended:
                    continue
                description = sfn.describe_execution(executionArn=arn)
                if description["status"] in FINAL_STATUSES:
                    ended[arn] = description
            if len(ended) == len(execution_arns):
                return ended
            if time.monotonic() > deadline:
                running = sorted(set(execution_arns) - set(ended))
                raise AssertionError(f"executions still running after {timeout:.0f} s: {running}")
            time.sleep(0.5)

    def history(self, execution_arn: str) -> list[dict[str, Any]]:
        """Return the execution's history events."""
        sfn = self.clients["stepfunctions"]
        events: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            kwargs = {"executionArn": execution_arn, "maxResults": 1000}
            if token:
                kwargs["nextToken"] = token
            page = sfn.get_execution_history(**kwargs)
            events.extend(page["events"])
            token = page.get("nextToken")
            if not token:
                return events

    def explain(self, execution_arn: str) -> str:
        """Describe how an execution went, for assertion messages."""
        lines = []
        for event in self.history(execution_arn):
            details = {key: value for key, value in event.items() if key.endswith("EventDetails")}
            lines.append(
                f"{event['id']:>3} {event['type']} {json.dumps(details, default=str)[:400]}"
            )
        for record in self.jobs.records():
            lines.append(
                f"job {record.kind} {record.name}: {record.status} {record.failure_reason or ''}"
            )
        lines.extend(self.jobs.harness_errors)
        return "\n".join(lines)

    def _wait_for_running_executions(self) -> None:
        running = [
            execution["executionArn"]
            for execution in self.executions()
            if execution["status"] == "RUNNING"
        ]
        if running:
            with contextlib.suppress(AssertionError):
                self.wait(running, timeout=120.0)

    # -- S3 reads -----------------------------------------------------------------------------

    def read(self, bucket: str, key: str, version_id: str | None = None) -> bytes:
        """Return an object's body."""
        kwargs = {"Bucket": bucket, "Key": key}
        if version_id:
            kwargs["VersionId"] = version_id
        return self.clients["s3"].get_object(**kwargs)["Body"].read()

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        """Return every key under `prefix`."""
        paginator = self.clients["s3"].get_paginator("list_objects_v2")
        found: list[str] = []
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            found.extend(item["Key"] for item in page.get("Contents", []))
        return found

    def versions(self, bucket: str, key: str) -> list[dict[str, Any]]:
        """Return every version of one key."""
        answer = self.clients["s3"].list_object_versions(Bucket=bucket, Prefix=key)
        return [item for item in answer.get("Versions", []) if item["Key"] == key]

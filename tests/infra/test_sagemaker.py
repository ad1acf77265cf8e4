"""Model image asset, SageMaker execution role, and the optional serverless endpoint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .synthesis import MODEL_DATA_URL, REPO_ROOT, Synthesized, as_list, statements_of, synthesize


@pytest.fixture(scope="module")
def synth() -> Synthesized:
    return synthesize()


@pytest.fixture(scope="module")
def with_endpoint() -> Synthesized:
    return synthesize(
        {"endpoint": True, "endpoint_model_data_url": MODEL_DATA_URL, "endpoint_memory_mb": 4096}
    )


def docker_image_assets(synth: Synthesized) -> list[dict]:
    assembly = synth.app.synth()
    artifact = assembly.get_stack_artifact(synth.stack.artifact_id)
    manifest = json.loads((Path(assembly.directory) / f"{artifact.id}.assets.json").read_text())
    return [
        {"hash": asset_hash, **asset["source"]}
        for asset_hash, asset in manifest["dockerImages"].items()
    ]


def sagemaker_role_statements(synth: Synthesized) -> list[dict]:
    role_id = synth.logical_id(synth.stack.sagemaker_role)
    return [
        statement
        for policy in synth.of_type("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in statements_of(policy)
    ]


def test_two_image_assets_from_repository_dockerfiles(synth):
    files = sorted(asset["dockerFile"] for asset in docker_image_assets(synth))

    assert files == ["containers/ctgan/Dockerfile", "containers/lambda/Dockerfile"]


def test_image_assets_build_for_x86(synth):
    for asset in docker_image_assets(synth):
        assert asset["platform"] == "linux/amd64", asset["dockerFile"]


@pytest.mark.parametrize(
    ("dockerfile", "expected", "left_out"),
    [
        ("containers/ctgan/Dockerfile", "model_code", "functions"),
        ("containers/lambda/Dockerfile", "functions", "model_code"),
    ],
)
def test_image_build_context_holds_only_its_files(synth, dockerfile, expected, left_out):
    assembly = synth.app.synth()
    asset = next(a for a in docker_image_assets(synth) if a["dockerFile"] == dockerfile)
    context = Path(assembly.directory) / asset["directory"]
    names = {path.name for path in context.iterdir()}

    assert (context / dockerfile).is_file()
    assert {"synthcare", "pyproject.toml", "README.md", "LICENSE", expected} <= names
    assert left_out not in names
    assert not names & {".venv", "node_modules", "cdk.out", ".git", "tests", "docs"}, names
    assert not list(context.rglob("__pycache__"))


def copy_sources(dockerfile: Path) -> list[str]:
    """Return the build-context paths that a Dockerfile's COPY and ADD instructions read."""
    sources = []
    for line in dockerfile.read_text().splitlines():
        words = line.split()
        if not words or words[0].upper() not in ("COPY", "ADD"):
            continue
        arguments = [word for word in words[1:] if not word.startswith("--")]
        if any(word.startswith("--from") for word in words[1:]):
            continue
        sources.extend(arguments[:-1])
    return sources


@pytest.mark.parametrize(
    "dockerfile", ["containers/ctgan/Dockerfile", "containers/lambda/Dockerfile"]
)
def test_image_build_context_holds_every_copied_path(synth, dockerfile):
    assembly = synth.app.synth()
    asset = next(a for a in docker_image_assets(synth) if a["dockerFile"] == dockerfile)
    context = Path(assembly.directory) / asset["directory"]
    sources = copy_sources(REPO_ROOT / dockerfile)

    assert sources
    for source in sources:
        assert (context / source).exists(), f"{dockerfile} copies {source}, not in the context"


def test_training_image_uri_is_the_ctgan_asset(synth):
    ctgan = next(asset for asset in docker_image_assets(synth) if "ctgan" in asset["dockerFile"])

    assert ctgan["hash"] in synth.stack.resolve(synth.stack.model_image.image_uri)["Fn::Sub"]


def test_sagemaker_role_trusts_only_sagemaker(synth):
    role = synth.resources[synth.logical_id(synth.stack.sagemaker_role)]
    statements = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]

    assert [s["Principal"] for s in statements] == [{"Service": "sagemaker.amazonaws.com"}]


def test_sagemaker_role_has_no_managed_policy(synth):
    role = synth.resources[synth.logical_id(synth.stack.sagemaker_role)]

    assert "ManagedPolicyArns" not in role["Properties"]
    assert "AmazonSageMakerFullAccess" not in json.dumps(synth.template.to_json())


def test_sagemaker_role_actions_have_no_wildcards(synth):
    statements = sagemaker_role_statements(synth)

    assert statements
    for statement in statements:
        for action in as_list(statement["Action"]):
            assert "*" not in action, action


def test_sagemaker_role_pulls_only_asset_repository(synth):
    statements = sagemaker_role_statements(synth)
    pull = [s for s in statements if "ecr:BatchGetImage" in as_list(s["Action"])]

    assert len(pull) == 1
    assert "container-assets" in json.dumps(pull[0]["Resource"])


def test_sagemaker_role_writes_logs_only_under_aws_sagemaker(synth):
    statements = sagemaker_role_statements(synth)
    logs = [s for s in statements if any(a.startswith("logs:") for a in as_list(s["Action"]))]

    assert len(logs) == 1
    assert json.dumps(logs[0]["Resource"]).endswith(':log-group:/aws/sagemaker/*"]]}')


def test_sagemaker_role_uses_only_pipeline_key(synth):
    key_id = synth.logical_id(synth.stack.storage.key)
    statements = sagemaker_role_statements(synth)
    kms = [s for s in statements if any(a.startswith("kms:") for a in as_list(s["Action"]))]

    assert kms
    for statement in kms:
        assert statement["Resource"] == {"Fn::GetAtt": [key_id, "Arn"]}


def test_sagemaker_role_may_encrypt_outputs_and_volumes(synth):
    statements = sagemaker_role_statements(synth)
    actions = {action for statement in statements for action in as_list(statement["Action"])}
    grants = [s for s in statements if "kms:CreateGrant" in as_list(s["Action"])]

    assert {"kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"} <= actions
    assert len(grants) == 1
    assert grants[0]["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}


def test_sagemaker_role_object_access_only_under_runs(synth):
    artifacts_id = synth.logical_id(synth.stack.storage.artifacts_bucket)
    statements = sagemaker_role_statements(synth)
    s3 = [s for s in statements if any(a.startswith("s3:") for a in as_list(s["Action"]))]

    assert s3
    for statement in s3:
        for resource in as_list(statement["Resource"]):
            text = json.dumps(resource)
            assert artifacts_id in text, text
            if "Fn::Join" in resource:
                assert resource["Fn::Join"][1][-1].startswith("/runs/"), text


def test_state_machine_may_pass_only_to_sagemaker(synth):
    role_id = synth.logical_id(synth.stack.sagemaker_role)
    passes = [
        statement
        for policy in synth.of_type("AWS::IAM::Policy").values()
        for statement in statements_of(policy)
        if "iam:PassRole" in as_list(statement["Action"])
    ]

    assert len(passes) == 1
    assert passes[0]["Resource"] == {"Fn::GetAtt": [role_id, "Arn"]}
    assert passes[0]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}
    }


def test_no_endpoint_by_default(synth):
    for resource_type in ("AWS::SageMaker::Model", "AWS::SageMaker::EndpointConfig",
                          "AWS::SageMaker::Endpoint"):  # fmt: skip
        synth.template.resource_count_is(resource_type, 0)


def test_endpoint_serves_model_data_url(with_endpoint):
    role_id = with_endpoint.logical_id(with_endpoint.stack.sagemaker_role)
    model = next(iter(with_endpoint.of_type("AWS::SageMaker::Model").values()))
    container = model["Properties"]["PrimaryContainer"]

    assert container["ModelDataUrl"] == MODEL_DATA_URL
    assert model["Properties"]["ExecutionRoleArn"] == {"Fn::GetAtt": [role_id, "Arn"]}


def test_endpoint_serves_ctgan_image(with_endpoint):
    model = next(iter(with_endpoint.of_type("AWS::SageMaker::Model").values()))
    image = model["Properties"]["PrimaryContainer"]["Image"]

    assert image == with_endpoint.stack.resolve(with_endpoint.stack.model_image.image_uri)


def test_endpoint_config_is_serverless(with_endpoint):
    config = next(iter(with_endpoint.of_type("AWS::SageMaker::EndpointConfig").values()))
    variants = config["Properties"]["ProductionVariants"]

    assert len(variants) == 1
    assert variants[0]["ServerlessConfig"] == {"MaxConcurrency": 2, "MemorySizeInMB": 4096}
    assert "InstanceType" not in variants[0]
    with_endpoint.template.resource_count_is("AWS::SageMaker::Endpoint", 1)

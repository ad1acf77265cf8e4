"""End-to-end harness: the synthesized CDK stack running in moto with the project's real code.

`synthesize` builds the template as `cdk synth` would; `Pipeline` stands it up in moto and binds
every task to real code (Lambda handlers in-process, SageMaker jobs through the container's
`train` and `serve` programs); `runs` uploads tables and follows their executions.
"""

from .cloud import Pipeline, Upload
from .runs import Run, finish, start, start_many
from .synth import FAST_CONTEXT, TEST_DATA, Synthesized, synthesize

__all__ = [
    "FAST_CONTEXT",
    "Pipeline",
    "Run",
    "Synthesized",
    "TEST_DATA",
    "Upload",
    "finish",
    "start",
    "start_many",
    "synthesize",
]

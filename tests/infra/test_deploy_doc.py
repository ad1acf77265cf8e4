"""docs/deploy.md lists every setting and every Lambda size as the code defines them."""

from __future__ import annotations

import json
import re

from cdk.functions import FUNCTION_SPECS

from .synthesis import REPO_ROOT, cdk_json_context

DOC = (REPO_ROOT / "docs" / "deploy.md").read_text()


def table_rows(first_cell: str) -> dict[str, list[str]]:
    """Return the Markdown table rows of the doc whose first cell matches `first_cell`."""
    rows = {}
    for line in DOC.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and re.fullmatch(first_cell, cells[0]):
            rows[cells[0].strip("`")] = cells[1:]
    return rows


def documented_default(cell: str) -> object:
    """Return a default as written in the doc (`3072`, `true`, `auto`, empty) as a JSON value."""
    if cell == "empty":
        return ""
    text = cell.strip("`")
    if text in ("true", "false") or text.isdigit():
        return json.loads(text)
    return text


def test_doc_lists_every_setting_with_its_default():
    rows = table_rows(r"`[a-z_]+`")
    context = {k: v for k, v in cdk_json_context().items() if not k.startswith(("@", "cli-"))}

    assert set(rows) == set(context)
    for key, value in context.items():
        assert documented_default(rows[key][0]) == value, key


def test_doc_lists_lambda_sizes_of_code():
    rows = table_rows(r"validate|evaluate|publish|failure|trigger")

    assert set(rows) == {spec.name for spec in FUNCTION_SPECS}
    for spec in FUNCTION_SPECS:
        memory, timeout, tmp = rows[spec.name]
        assert memory == f"{spec.memory_mb} MB", spec.name
        assert timeout == f"{spec.timeout_seconds // 60} min", spec.name
        assert tmp == f"{spec.ephemeral_storage_mb} MB", spec.name

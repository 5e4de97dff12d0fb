"""A deployed template body read back as a document: CloudFormation stores (and GetTemplate, DescribeStackSet
return) a body re-serialised, sometimes as YAML, so a body is compared as the document it is, never as text."""

from __future__ import annotations

import json
from typing import Any

import cfn_flip


def parsed_template(body: str | None) -> Any:
    """A template body as a document (JSON, or the YAML CloudFormation also takes); None when it is neither:
    how CloudFormation stores a body (re-serialised, processed) must not make it look changed."""
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        pass
    try:
        return cfn_flip.load_yaml(body)
    except Exception:  # cfn-flip raises whatever its YAML loader does for a body that is not YAML
        return None


def same_template(stored: str | None, rendered: str) -> bool:
    """Whether a stored template body is the rendered one: the same document, however it is written."""
    if stored == rendered:
        return True
    document = parsed_template(stored)
    return document is not None and document == parsed_template(rendered)

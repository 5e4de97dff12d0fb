"""Template context -> rendered templates: parsed, checked CloudFormation documents within the size limit."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from generator.config import Config
from generator.errors import Problem, RenderError
from generator.paths import GLOBAL_TEMPLATE_NAME, REGIONAL_TEMPLATE_NAME
from generator.render.context import template_context
from generator.render.environment import template_environment
from generator.render.inline_code import read_handler_code
from generator.resources import template_file

# Characters JSON allows raw in a string but YAML parsers (CloudFormation's, cfn-lint's) refuse or
# read as line breaks: C1 controls, NEL, U+2028, U+2029 and the non-characters. Written as \uXXXX
# escapes, which mean the same string.
_UNSAFE_RAW_CHARACTERS = re.compile("[\x7f-\x9f\u2028\u2029\ufffe\uffff]")

# CloudFormation refuses a template body passed inline that is larger than this.
MAX_TEMPLATE_BODY_BYTES = 51_200


@dataclass(frozen=True)
class RenderedTemplate:
    """One CloudFormation template: its file stem and its document."""

    name: str
    document: dict[str, Any]

    @property
    def size(self) -> int:
        """Bytes of the JSON text that is written and deployed."""
        return len(self.to_json().encode("utf-8"))

    def to_json(self) -> str:
        """Pretty, deterministic JSON with a trailing newline: what is written and deployed."""
        text = json.dumps(self.document, indent=2, ensure_ascii=False) + "\n"
        return _UNSAFE_RAW_CHARACTERS.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def render_global_template(config: Config, context: dict[str, Any] | None = None) -> RenderedTemplate:
    """The global template: listener, destination and the role Proxylity assumes."""
    context = context if context is not None else template_context(config, read_handler_code())
    return _render(config, GLOBAL_TEMPLATE_NAME, context)


def render_regional_template(config: Config, context: dict[str, Any] | None = None) -> RenderedTemplate:
    """The regional template, deployed unchanged in every configured region."""
    context = context if context is not None else template_context(config, read_handler_code())
    return _render(config, REGIONAL_TEMPLATE_NAME, context)


def render_templates(config: Config) -> list[RenderedTemplate]:
    """Both templates, checked against CloudFormation's size limit."""
    handler_code = read_handler_code()
    context = template_context(config, handler_code)
    templates = [render_global_template(config, context), render_regional_template(config, context)]
    problems = [
        Problem(
            config.source,
            f"renders {template.name}.json at {size:,} bytes; CloudFormation accepts at most "
            f"{MAX_TEMPLATE_BODY_BYTES:,} inline; {_largest_parts(config, template, handler_code)}",
        )
        for template in templates
        if (size := template.size) > MAX_TEMPLATE_BODY_BYTES
    ]
    if problems:
        raise RenderError(problems)
    return templates


# The settings that can make a template large, each with the smallest value it can take: the bytes a
# setting adds are the difference it makes to the rendered size, so the message names the real cause.
_SHRINKABLE_SETTINGS: dict[str, Callable[[Config], Config]] = {
    "tags": lambda c: replace(c, tags={}),
    "listener.client_domains": lambda c: replace(c, listener=replace(c.listener, client_domains=())),
    "listener.client_networks": lambda c: replace(c, listener=replace(c.listener, client_networks=("0.0.0.0/0",))),
    "listener.wireguard.peers": lambda c: replace(
        c,
        listener=replace(
            c.listener,
            wireguard=replace(c.listener.wireguard, peers=c.listener.wireguard.peers[:1])
            if c.listener.wireguard
            else None,
        ),
    ),
    "listener.name": lambda c: replace(c, listener=replace(c.listener, name=None)),
    "destination.description": lambda c: replace(c, destination=replace(c.destination, description="")),
    "regions": lambda c: replace(c, regions=c.regions[:1]),
}


def _inline_code_bytes(document: dict[str, Any]) -> dict[str, int]:
    """{function resource: bytes its inline code (Code.ZipFile) takes in the template's JSON}."""
    sizes = {}
    for logical_id, resource in document.get("Resources", {}).items():
        code = ((resource.get("Properties") or {}).get("Code") or {}).get("ZipFile")
        if isinstance(code, str):
            sizes[logical_id] = len(json.dumps(code, ensure_ascii=False).encode("utf-8"))
    return sizes


def _largest_parts(config: Config, template: RenderedTemplate, handler_code: str) -> str:
    """What takes the room: the functions' inline code, then the settings, largest first:
    'the functions' inline code takes 6,010 bytes (...); the largest settings: tags 48,120 bytes, ...'."""
    name, size = template.name, template.size
    code_sizes = _inline_code_bytes(template.document)
    code = ""
    if code_sizes:
        each = ", ".join(f"{logical_id} {added:,}" for logical_id, added in code_sizes.items())
        code = f"the functions' inline code takes {sum(code_sizes.values()):,} bytes ({each}); "
    parts = []
    for setting, smallest in _SHRINKABLE_SETTINGS.items():
        reduced = smallest(config)
        reduced_size = _render(reduced, name, template_context(reduced, handler_code)).size
        if size - reduced_size > 0:
            parts.append((size - reduced_size, setting))
    if not parts:
        return f"{code}the settings cannot make it smaller"
    parts.sort(reverse=True)
    shown_parts = ", ".join(f"{setting} {added:,} bytes" for added, setting in parts[:3])
    return f"{code}the largest settings: {shown_parts} (shorten or remove some)"


def _render(config: Config, name: str, context: dict[str, Any]) -> RenderedTemplate:
    text = template_environment().get_template(f"{name}.json.j2").render(context)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        # Only a broken template gets here: every config value enters through tojson.
        raise RenderError(
            [Problem(str(template_file(f"{name}.json.j2")), f"rendered invalid JSON for {config.source}: {error}")]
        ) from None
    return RenderedTemplate(name=name, document=document)

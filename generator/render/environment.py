"""The Jinja environment the templates in templates.j2/ are rendered with."""

from __future__ import annotations

from functools import cache

import jinja2

from generator.resources import template_file


@cache
def template_environment() -> jinja2.Environment:
    """Autoescape off: it is JSON, not HTML (escaping would turn quotes into &#34;); every value goes in
    through `tojson` instead. StrictUndefined: a misspelt name fails loudly instead of rendering empty."""
    return jinja2.Environment(
        loader=jinja2.FunctionLoader(_template_source),
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def _template_source(name: str) -> tuple[str, str, None] | None:
    """A template of templates.j2/ by name (an include too), read where the package keeps it; None: no such
    template (Jinja says TemplateNotFound). Rendering is one process's work: never reloaded."""
    path = template_file(name)
    if path.name != name or not path.is_file():  # the folder's own files only, never a path out of it
        return None
    return path.read_text(encoding="utf-8"), str(path), None

"""The Jinja environment the templates in templates.j2/ are rendered with."""

from __future__ import annotations

from functools import cache

import jinja2

from generator.paths import TEMPLATES_DIR


@cache
def template_environment() -> jinja2.Environment:
    """Autoescape off: it is JSON, not HTML (escaping would turn quotes into &#34;); every value goes in
    through `tojson` instead. StrictUndefined: a misspelt name fails loudly instead of rendering empty."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )

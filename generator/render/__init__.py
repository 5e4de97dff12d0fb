"""render/: Config -> Jinja context -> rendered, checked templates -> files in out/.

context (every decision), environment (Jinja), templates (render, parse, size), files (all or nothing).
"""

from generator.render.files import FORMATS, template_path, template_paths, write_templates
from generator.render.function_code import (
    function_code_from_template,
    render_function_code,
    rendered_function_code,
)
from generator.render.templates import (
    MAX_TEMPLATE_BODY_BYTES,
    RenderedTemplate,
    render_global_template,
    render_regional_template,
    render_templates,
)

__all__ = [
    "FORMATS",
    "MAX_TEMPLATE_BODY_BYTES",
    "RenderedTemplate",
    "function_code_from_template",
    "render_function_code",
    "render_global_template",
    "render_regional_template",
    "render_templates",
    "rendered_function_code",
    "template_path",
    "template_paths",
    "write_templates",
]

"""Packet Counter multi-region generator: config.yaml -> CloudFormation templates -> stacks.

The pipeline, one module per step: yaml_source -> config (schema) -> context -> render -> files.
"""

from generator.config import Config, load_config
from generator.errors import AwsError, ConfigError, DeployError, ExitCode, GeneratorError, Problem, RenderError
from generator.render import RenderedTemplate, render_global_template, render_regional_template, render_templates
from generator.render.files import write_templates

__all__ = [
    "AwsError",
    "Config",
    "ConfigError",
    "DeployError",
    "ExitCode",
    "GeneratorError",
    "Problem",
    "RenderError",
    "RenderedTemplate",
    "load_config",
    "render_global_template",
    "render_regional_template",
    "render_templates",
    "write_templates",
]

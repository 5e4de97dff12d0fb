"""Packet Counter multi-region generator: config.yaml -> CloudFormation templates -> stacks in every region.

One room per stage, data flowing one way:
    config/  YAML -> validated, typed Config       render/  Config -> templates -> files in out/
    deploy/  templates -> stacks (deploy, plan, status, destroy), reporting events
    traffic/ the smoke client                      local/   local UDP Gateway and local AWS cloud
    observe/ the canary once from here, and every region's logs merged in time order
    cli/     the only code that prints, asks or reads the terminal
This module is the small public API of the first stages (the engine of the deploy stage is
generator.deploy: deploy, plan, inventory, destroy_plan, destroy); errors.py holds every error and exit
code, resources.py finds every file the package ships, paths.py the user's files (./config.yaml, ./out/).
"""

from generator.config import Config, load_config
from generator.errors import AwsError, ConfigError, DeployError, ExitCode, GeneratorError, Problem, RenderError
from generator.render import RenderedTemplate, render_templates, write_templates

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
    "render_templates",
    "write_templates",
]

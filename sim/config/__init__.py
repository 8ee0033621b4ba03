"""Scenario configuration: pydantic models, YAML loading, ``--set`` overrides, clear errors.

A scenario is one YAML file. Every model refuses unknown keys (``extra="forbid"``) so a typo
fails loudly instead of silently using a default. Defaults come from
``../shared/docs/domain-facts.md`` and are listed with their sources in ``data/SOURCES.md``.

- ``sim.config.models`` — the models (what a scenario may say, with defaults and checks;
  every field with a ``description=`` in a planner's words), ``sim.config.interventions``
  the faults and policies, ``sim.config.base`` the field types and the error;
- ``sim.config.loading`` — a scenario file, its ``extends:`` and ``--set`` overrides validated
  into a ``Scenario``; it calls ``sim.config.files`` (regular files of bounded size, the data
  tables checked), ``sim.config.safe_yaml`` (YAML read safely), ``sim.config.composition``
  (``extends:``), ``sim.config.overrides`` (``--set``) and ``sim.config.error_lines`` (one
  line per problem: ``<file>: <field path>: <what is wrong>``; the CLI exits with code 2);
- ``sim.config.paths`` — config paths by position or by name; ``sim.config.references`` — the
  names a scenario uses, checked against its data files;
- ``sim.config.schema_doc`` — ``docs/reference/scenario.md``, generated from the models.
"""

from sim.config.base import MAX_COUNT, MAX_QUANTITY, MAX_SEED, ConfigError, Seed, StrictInt
from sim.config.files import MAX_CONFIG_BYTES, check_data_files, read_config_file
from sim.config.loading import load_scenario, scenario_from_dict, with_overrides
from sim.config.models import *  # noqa: F403
from sim.config.models import Scenario
from sim.config.overrides import apply_overrides, parse_override
from sim.config.safe_yaml import load_yaml_text

__all__ = [
    "MAX_CONFIG_BYTES",
    "MAX_COUNT",
    "MAX_QUANTITY",
    "MAX_SEED",
    "ConfigError",
    "Scenario",
    "Seed",
    "StrictInt",
    "apply_overrides",
    "check_data_files",
    "load_scenario",
    "load_yaml_text",
    "parse_override",
    "read_config_file",
    "scenario_from_dict",
    "with_overrides",
]

"""The commands each domain adds to ``gridgov``: the registry app/cli.py builds its parser from.

A domain's command module (app/<domain>/cli.py) defines a function that adds its sub-command(s) to
the parser, and is listed here; it shares helpers through app/cli_support.py, never app/cli.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.audits.cli import add_audit_parser
from app.audittrail.cli import add_audit_log_parser
from app.incidents.cli import add_incident_commands
from app.plans.cli import add_plan_commands
from app.register.cli import add_register_commands
from app.scale.cli import add_scale_commands
from app.units.cli import add_units_commands

# Adds one or more sub-commands to the sub-parsers of ``gridgov`` (argparse's ``add_subparsers()``).
AddCommands = Callable[[Any], None]

# (the domain that owns the commands, the function that adds them)
DOMAIN_COMMANDS: list[tuple[str, AddCommands]] = [
    ("incidents", add_incident_commands),  # worker, kpis
    ("audits", add_audit_parser),  # audit
    ("audittrail", add_audit_log_parser),  # audit-log
    ("plans", add_plan_commands),  # partition
    ("units", add_units_commands),  # units derive
    ("scale", add_scale_commands),  # export
    ("register", add_register_commands),  # register import, register export
]

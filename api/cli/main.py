"""The ``nestpatrol`` entry point: mounts the command groups and is the one error boundary.

Known errors (bad input, missing data, unreachable database) end with their message and exit
code 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click
import typer

from api.cli import coverage, db, demo, geography, grid, plan, server, sim
from api.cli import tickets as tickets_cli
from api.cli.common import err_console
from api.errors import ApiError
from detection import cli as detection_cli
from detection.errors import DetectionError
from detection.training import cli as model_cli
from missions.errors import MissionsError
from patrol.errors import PatrolError

app = typer.Typer(
    name="nestpatrol",
    help="NestPatrol: city governance by drone — geography, grid, plans, patrols, clues, tickets.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("init")(demo.init)
app.command("demo")(demo.demo)
app.add_typer(geography.app, name="import")
app.add_typer(grid.app, name="grid")
app.add_typer(plan.app, name="plan")
app.add_typer(detection_cli.app)
app.add_typer(model_cli.app, name="model")
app.add_typer(coverage.app, name="coverage")
app.add_typer(sim.app, name="sim")
app.add_typer(db.app, name="db")
app.command("serve")(server.serve)
app.add_typer(server.users, name="users")
tickets_cli.mount(app)

KNOWN_ERRORS: tuple[type[Exception], ...] = (MissionsError, PatrolError, ApiError, DetectionError)


def run(argv: Sequence[str] | None = None) -> int:
    """Run the CLI on ``argv`` and return the exit code (tests call this in-process)."""
    try:
        # without standalone mode click returns an Exit's code instead of raising it
        code = app(args=list(argv) if argv is not None else None, standalone_mode=False)
    except click.exceptions.Exit as e:
        return int(e.exit_code)
    except click.ClickException as e:
        e.show()
        return e.exit_code
    except click.exceptions.Abort:
        err_console.print("aborted")
        return 130
    except KNOWN_ERRORS as e:
        err_console.print(f"[bold red]error:[/] {e}")
        return 2
    return code if isinstance(code, int) else 0


def main() -> None:
    sys.exit(run())

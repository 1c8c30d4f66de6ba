"""The ``nestpatrol`` command line (typer + rich)."""

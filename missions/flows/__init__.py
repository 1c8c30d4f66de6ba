"""Use cases with side effects (files in, database out): what the CLI and the API call."""

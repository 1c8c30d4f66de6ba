"""Alembic environment: runs on the engine handed over in ``config.attributes``."""

from __future__ import annotations

from alembic import context

import api.auth.models  # (registers users, API keys, audit log)
import api.models  # (registers the clue, ticket and dispatch tables)
import api.verification.models  # noqa: F401  (verification flights)
import missions.storage.models  # noqa: F401  (registers the tables)
import patrol.storage.models  # noqa: F401  (flights, frames, sightings)
from missions.storage.base import Base

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    context.run_migrations()

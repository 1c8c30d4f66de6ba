"""The FastAPI application factory (`nestpatrol serve`)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from api.auth import views as auth_views
from api.clues import views as clue_views
from api.coverage import views as coverage_views
from api.dispatch import views as dispatch_views
from api.evidence import views as evidence_views
from api.geography import views as geography_views
from api.http.deps import CurrentPrincipal, LoginLimiter
from api.http.problems import install_problem_handlers
from api.open311.views import router as open311_router
from api.planning import views as planning_views
from api.tickets import views as ticket_views
from api.verification import views as verification_views
from missions.settings import Settings
from missions.storage import make_engine, require_schema

__all__ = ["WEB_ROOT", "create_app"]

WEB_ROOT = Path(__file__).resolve().parents[1] / "web" / "static"

DESCRIPTION = """NestPatrol API: geography, the unit grid, nests, coverage, clues and tickets.

Spatial lists are GeoJSON FeatureCollections (RFC 7946, WGS-84). Errors are RFC 9457
`application/problem+json`. Authenticate with `POST /api/v1/auth/login` (bearer token) or an
`X-API-Key` header.
"""


def create_app(settings: Settings) -> FastAPI:
    """An app on the settings' database; refuses a default secret outside dev mode."""
    settings.check_server_secret()
    engine = make_engine(settings.db_url, pool=settings.db_pool)
    require_schema(engine)
    app = FastAPI(title="NestPatrol", version="0.1.0", description=DESCRIPTION)
    app.state.engine = engine
    app.state.settings = settings
    app.state.login_limiter = LoginLimiter(settings.login_attempts_per_minute)
    install_problem_handlers(app)
    app.include_router(auth_views.router)
    app.include_router(geography_views.router)
    app.include_router(coverage_views.router)
    app.include_router(ticket_views.router)
    app.include_router(planning_views.router)
    app.include_router(open311_router)
    app.include_router(dispatch_views.router)
    app.include_router(clue_views.router)
    app.include_router(evidence_views.router)
    app.include_router(verification_views.router)

    @app.get("/api/v1/health", tags=["meta"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/api/v1/ui-config", tags=["meta"])
    def ui_config(_: CurrentPrincipal) -> dict[str, str | None]:
        """What the web map needs: the optional basemap."""
        return {"tile_url": settings.tile_url, "tile_attribution": settings.tile_attribution}

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/app/")

    app.mount("/app", StaticFiles(directory=WEB_ROOT, html=True), name="web")

    return app

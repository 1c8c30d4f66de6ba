"""Open311 GeoReport v2 over tickets: services, requests (GET, POST) and one request by id."""

from api.open311.views import router

__all__ = ["router"]

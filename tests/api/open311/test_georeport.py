from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine

from api.tickets import service as tickets
from api.tickets.workflow import TicketStatus
from missions.storage import session_scope

from .conftest import TestClient

FORM = {"service_code": "0109", "lat": "22.94", "long": "113.38", "description": "rubble"}


def test_services_list_the_city_category_codes(client: TestClient) -> None:
    services = client.get("/open311/v2/services.json").json()
    codes = {s["service_code"]: s for s in services}
    assert {"0501", "0512", "0109", "9901"} <= set(codes)
    assert codes["0109"]["group"] == "01"
    assert codes["0109"]["metadata"] is False


def test_post_is_idempotent_per_key_and_projects_onto_open_closed(
    client: TestClient, engine: Engine
) -> None:
    first = client.post("/open311/v2/requests.json", data=FORM, headers={"Idempotency-Key": "k1"})
    assert first.status_code == 201
    (created,) = first.json()
    rid = created["service_request_id"]
    again = client.post("/open311/v2/requests.json", data=FORM, headers={"Idempotency-Key": "k1"})
    assert (again.status_code, again.json()[0]["service_request_id"]) == (200, rid)
    other = dict(FORM, description="something else")
    clash = client.post("/open311/v2/requests.json", data=other, headers={"Idempotency-Key": "k1"})
    assert clash.status_code == 422
    assert "different request" in clash.json()[0]["description"]
    (one,) = client.get(f"/open311/v2/requests/{rid}.json").json()
    assert (one["status"], one["service_code"], one["lat"]) == ("open", "0109", 22.94)
    assert "internal status: collected" in one["status_notes"]
    with session_scope(engine) as s:
        tickets.reject(s, ticket_id=int(rid), actor="o", reason="tarp", now=datetime.now(UTC))
    (one,) = client.get(f"/open311/v2/requests/{rid}.json").json()
    assert one["status"] == "closed"
    assert "rejected: tarp" in one["status_notes"]


def test_search_by_status_code_and_id(client: TestClient, engine: Engine) -> None:
    ids = [
        client.post("/open311/v2/requests.json", json=dict(FORM, service_code=code)).json()[0][
            "service_request_id"
        ]
        for code in ("0109", "0501", "0109")
    ]
    with session_scope(engine) as s:
        tickets.transition(
            s, ticket_id=int(ids[0]), to=TicketStatus.DUPLICATE, actor="o", now=datetime.now(UTC)
        )

    def found(**params: str) -> list[str]:
        r = client.get("/open311/v2/requests.json", params=params)
        assert r.status_code == 200
        return sorted(x["service_request_id"] for x in r.json())

    assert found(status="open") == sorted(ids[1:])
    assert found(status="closed") == [ids[0]]
    assert found(service_code="0109") == sorted([ids[0], ids[2]])
    assert found(service_request_id=f"{ids[1]},{ids[2]}") == sorted(ids[1:])


def test_errors_are_georeport_error_lists(client: TestClient) -> None:
    r = client.post("/open311/v2/requests.json", data=dict(FORM, service_code="nope"))
    assert r.status_code == 400
    assert "services.json" in r.json()[0]["description"]
    r = client.post("/open311/v2/requests.json", data={"service_code": "0109"})
    assert r.status_code == 400
    assert r.json()[0]["code"] == 400
    assert client.get("/open311/v2/requests/424242.json").status_code == 404
    assert client.get("/open311/v2/requests.json", params={"status": "pending"}).status_code == 400


def test_requests_need_a_non_officer_api_key(bare_client: TestClient, engine: Engine) -> None:
    from api.auth.models import Role
    from api.auth.service import create_api_key

    assert bare_client.get("/open311/v2/services.json").status_code == 200  # public catalogue
    for call in (
        lambda h: bare_client.get("/open311/v2/requests.json", headers=h),
        lambda h: bare_client.get("/open311/v2/requests/1.json", headers=h),
        lambda h: bare_client.post("/open311/v2/requests.json", data=FORM, headers=h),
    ):
        refused = call({})
        assert refused.status_code == 403
        assert "api_key" in refused.json()[0]["description"]
    officer = create_api_key(engine, name="o", role=Role.OFFICER, jurisdictions=["J1"], actor="t")
    assert (
        bare_client.get("/open311/v2/requests.json", headers={"X-API-Key": officer}).status_code
        == 403
    )
    key = create_api_key(engine, name="hub", role=Role.DISPATCHER, jurisdictions=[], actor="t")
    assert bare_client.get("/open311/v2/requests.json", params={"api_key": key}).status_code == 200
    created = bare_client.post("/open311/v2/requests.json", data=dict(FORM, api_key=key))
    assert created.status_code == 201

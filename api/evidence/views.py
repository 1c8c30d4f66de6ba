"""``GET /api/v1/evidence/{sha256}``: an evidence crop (JPEG) for the map's and tickets' pop-ups.

The hash is the content, so the response never changes: a strong ETag (the hash itself) and a
year of private caching; a matching ``If-None-Match`` answers 304 without reading the file.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Response
from sqlalchemy.orm import Session

from api.evidence.service import SHA256_PATTERN, crop_file, visible_crop
from api.http.deps import CurrentPrincipal, EngineDep, SettingsDep
from api.http.problems import MEDIA_TYPE as PROBLEM
from api.http.problems import ProblemError

router = APIRouter(prefix="/api/v1/evidence", tags=["evidence"])

JPEG = "image/jpeg"
#: private: the bytes are behind authorisation, so shared caches must not keep them
CACHE_CONTROL = "private, max-age=31536000, immutable"
_PROBLEM_DOC: dict[str, Any] = {"content": {PROBLEM: {"schema": {"type": "object"}}}}

Sha256Path = Annotated[
    str,
    Path(
        pattern=SHA256_PATTERN,
        description="The crop's SHA-256 in lowercase hex, as in a ticket's evidence "
        "(`crop_sha256`).",
        examples=["9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"],
    ),
]


@router.get(
    "/{sha256}",
    response_class=Response,
    responses={
        200: {
            "content": {JPEG: {"schema": {"type": "string", "format": "binary"}}},
            "description": "The crop (JPEG); ETag is the hash.",
        },
        304: {"description": "Not modified: the ETag matched If-None-Match."},
        404: {"description": "No such crop that you may see.", **_PROBLEM_DOC},
        422: {"description": "Not a lowercase hex SHA-256.", **_PROBLEM_DOC},
    },
)
def get_evidence(
    sha256: Sha256Path,
    principal: CurrentPrincipal,
    engine: EngineDep,
    settings: SettingsDep,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """One evidence crop; officers get only crops of tickets in their jurisdictions."""
    with Session(engine) as session:
        if not visible_crop(session, sha256=sha256, principal=principal):
            raise ProblemError(
                404,
                "Not found",
                f"no evidence crop {sha256} that you may see; take the hash from a ticket's "
                "evidence (crop_sha256) in your jurisdictions",
            )
    etag = f'"{sha256}"'
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    if if_none_match is not None and {etag, "*"} & {t.strip() for t in if_none_match.split(",")}:
        return Response(status_code=304, headers=headers)
    path = crop_file(settings.data_dir, sha256)
    try:
        data = path.read_bytes()
    except FileNotFoundError as e:
        raise ProblemError(
            404,
            "Evidence file missing",
            f"crop {sha256} is recorded but its file is not in the server's evidence directory; "
            "an admin should restore the data directory's evidence/ folder from backup",
        ) from e
    return Response(data, media_type=JPEG, headers=headers)

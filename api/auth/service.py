"""Users, API keys and audit entries (keyword-only functions on an engine/connection)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from api.auth.models import ApiKey, AuditEntry, Role, User
from api.auth.security import Principal, hash_api_key, hash_password, new_api_key, verify_password
from api.errors import ApiError

__all__ = [
    "audit",
    "authenticate",
    "create_api_key",
    "create_user",
    "principal_for_key",
    "revoke_api_key",
    "upsert_user",
]


def audit(
    conn: Connection,
    *,
    actor: str,
    action: str,
    entity: str,
    entity_id: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Record a write in the same transaction as the write itself."""
    conn.execute(
        insert(AuditEntry),
        [
            {
                "at": datetime.now(UTC),
                "actor": actor,
                "action": action,
                "entity": entity,
                "entity_id": entity_id,
                "before": before,
                "after": after,
            }
        ],
    )


def create_user(
    engine: Engine,
    *,
    username: str,
    password: str,
    role: Role,
    jurisdictions: list[str],
    actor: str,
) -> None:
    if len(password) < 10:
        raise ApiError(f"password for {username!r} is too short; use at least 10 characters")
    if role is Role.OFFICER and not jurisdictions:
        raise ApiError(
            f"officer {username!r} needs at least one jurisdiction (--jurisdiction CODE)"
        )
    with engine.begin() as conn:
        if conn.execute(select(User.id).where(User.username == username)).first():
            raise ApiError(f"user {username!r} exists already; pick another name")
        conn.execute(
            insert(User),
            [
                {
                    "username": username,
                    "password_hash": hash_password(password),
                    "role": role.value,
                    "jurisdictions": jurisdictions,
                    "active": True,
                    "created_at": datetime.now(UTC),
                }
            ],
        )
        audit(
            conn,
            actor=actor,
            action="user.create",
            entity="user",
            entity_id=username,
            after={"role": role.value, "jurisdictions": jurisdictions},
        )


def upsert_user(
    engine: Engine,
    *,
    username: str,
    password: str,
    role: Role,
    jurisdictions: list[str],
    actor: str,
) -> None:
    """Create the user, or reset its password, role and scope (used for demo accounts)."""
    with engine.connect() as conn:
        exists = conn.execute(select(User.id).where(User.username == username)).first()
    if exists is None:
        create_user(
            engine,
            username=username,
            password=password,
            role=role,
            jurisdictions=jurisdictions,
            actor=actor,
        )
        return
    with engine.begin() as conn:
        conn.execute(
            update(User)
            .where(User.username == username)
            .values(
                password_hash=hash_password(password),
                role=role.value,
                jurisdictions=jurisdictions,
                active=True,
            )
        )
        audit(
            conn,
            actor=actor,
            action="user.reset",
            entity="user",
            entity_id=username,
            after={"role": role.value, "jurisdictions": jurisdictions},
        )


def authenticate(engine: Engine, *, username: str, password: str) -> Principal | None:
    with engine.connect() as conn:
        row = conn.execute(select(User).where(User.username == username, User.active)).first()
    if row is None or not verify_password(password, row.password_hash):
        return None
    return Principal(row.username, Role(row.role), tuple(row.jurisdictions))


def create_api_key(
    engine: Engine, *, name: str, role: Role, jurisdictions: list[str], actor: str
) -> str:
    """A new key, returned once (only its hash is stored)."""
    key, prefix = new_api_key()
    with engine.begin() as conn:
        conn.execute(
            insert(ApiKey),
            [
                {
                    "prefix": prefix,
                    "key_hash": hash_api_key(key),
                    "name": name,
                    "role": role.value,
                    "jurisdictions": jurisdictions,
                    "created_at": datetime.now(UTC),
                    "revoked_at": None,
                }
            ],
        )
        audit(
            conn,
            actor=actor,
            action="api_key.create",
            entity="api_key",
            entity_id=prefix,
            after={"name": name, "role": role.value},
        )
    return key


def principal_for_key(engine: Engine, key: str) -> Principal | None:
    parts = key.split("_")
    if len(parts) < 3 or parts[0] != "np":
        return None
    with engine.connect() as conn:
        row = conn.execute(
            select(ApiKey).where(ApiKey.prefix == parts[1], ApiKey.revoked_at.is_(None))
        ).first()
    if row is None or row.key_hash != hash_api_key(key):
        return None
    return Principal(f"key:{row.name}", Role(row.role), tuple(row.jurisdictions))


def revoke_api_key(engine: Engine, *, prefix: str, actor: str) -> None:
    with engine.begin() as conn:
        done = conn.execute(
            update(ApiKey).where(ApiKey.prefix == prefix).values(revoked_at=datetime.now(UTC))
        )
        if done.rowcount == 0:
            raise ApiError(f"no API key with prefix {prefix!r}")
        audit(conn, actor=actor, action="api_key.revoke", entity="api_key", entity_id=prefix)

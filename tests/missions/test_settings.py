from __future__ import annotations

from pathlib import Path

import pytest

from missions.errors import MissionsError
from missions.settings import load_settings


def test_defaults_put_the_sqlite_file_in_the_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("NESTPATROL_DATA_DIR", "NESTPATROL_DATABASE_URL", "NESTPATROL_TIMEZONE"):
        monkeypatch.delenv(var, raising=False)
    settings = load_settings()
    assert settings.db_url == "sqlite:///nestpatrol-data/nestpatrol.db"
    assert settings.timezone == "Asia/Shanghai"
    assert settings.cell_size_m == 100.0


def test_environment_then_flags_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NESTPATROL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("NESTPATROL_CELL_SIZE_M", "50")
    settings = load_settings()
    assert settings.db_url == f"sqlite:///{tmp_path}/nestpatrol.db"
    assert settings.cell_size_m == 50.0
    flagged = load_settings(database_url="postgresql+psycopg://u@h/db", cell_size_m=25.0)
    assert flagged.db_url == "postgresql+psycopg://u@h/db"
    assert flagged.cell_size_m == 25.0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("timezone", "Mars/Olympus", "unknown time zone"), ("cell_size_m", -1, "greater than 0")],
)
def test_bad_settings_say_what_is_wrong(field: str, value: object, message: str) -> None:
    with pytest.raises(MissionsError, match=message):
        load_settings(**{field: value})

"""The one settings object. Every tunable rule (a setting with a stated default:
docs/architecture.md#where-each-rule-lives) lives here.

Environment variables use the prefix ``GRIDGOV_`` (e.g. ``GRIDGOV_DATABASE_URL``).
"""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.auth.config import AuthSettings
from app.incidents.config import IncidentSettings
from app.visits.settings import VisitSettings

# Environment ``test`` without GRIDGOV_SECRET_KEY: one random key for this process (never in code).
_TEST_PROCESS_KEY = secrets.token_urlsafe(48)
# And the register's two keys (app/register/keys.py), likewise random per test process.
_TEST_REGISTER_KEYS = (secrets.token_urlsafe(48), secrets.token_urlsafe(48))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="GRIDGOV_", env_file=".env", extra="ignore", env_nested_delimiter="__"
    )

    environment: Literal["development", "test", "production"] = "development"

    # None means: run the embedded PostgreSQL + PostGIS cluster under ``data_dir``.
    database_url: str | None = None
    data_dir: Path = Path("var")
    embedded_port: int = 54329
    db_pool_size: int = 10

    # The key that signs tokens: no default. `gridgov run` generates one into
    # <data_dir>/secret_key; any other start needs GRIDGOV_SECRET_KEY (app/auth/keys.py).
    secret_key: str | None = Field(default=None, min_length=32)
    # The register's keys (docs/register.md#id-numbers): one seals ID numbers (AES-256-GCM), the
    # other finds them (HMAC-SHA256). No default: `gridgov run` keeps them in <data_dir>, any other
    # start needs GRIDGOV_REGISTER_KEY and GRIDGOV_REGISTER_HASH_KEY (app/register/keys.py).
    register_key: str | None = Field(default=None, min_length=32)
    register_hash_key: str | None = Field(default=None, min_length=32)

    # Test switch: False turns the application's jurisdiction filters off (app/auth/scope.py) so the
    # tests can prove that row-level security alone keeps every caller inside their area.
    access_app_filters: bool = True

    # Grid rules (docs/domain.md#grids)
    household_target: int = 300
    household_band_min: int = 250
    household_band_max: int = 500
    # Micro-grids (微网格) inside a grid: their own band (docs/domain.md#micro-grids).
    micro_household_band_min: int = Field(default=50, ge=0)
    micro_household_band_max: int = Field(default=80, ge=1)
    # Topology tolerances enforced by the database (copied into registry_config at start-up).
    overlap_tolerance_m2: float = 1.0
    containment_tolerance_m2: float = 1.0

    # Boundary plans: a planner's edit lock lapses after this long without an edit.
    plan_lock_minutes: int = Field(default=15, ge=1, le=24 * 60)

    # Locate
    edge_distance_m: float = Field(
        default=20.0, description="flag points this close to a grid edge"
    )
    locate_refresh_seconds: float = 2.0
    locate_batch_max: int = 1_000_000
    # Batches waiting for this process's batch thread before new ones get 503 (app/locate/batch.py).
    locate_batch_queue: int = Field(default=4, ge=1, le=100)
    # Where the machine's locate indexes are published for every worker to map
    # (app/locate/shared.py); empty: a directory under /dev/shm (or the temporary directory).
    locate_index_dir: str = ""

    upload_max_bytes: int = 200 * 1024 * 1024

    # Security audit trail: `gridgov audit-log purge` deletes events older than this. GB/T 22239-2019
    # level 3 requires at least six months, hence the floor.
    audit_retention_days: int = Field(default=180, ge=180)

    # Request limits, enforced as the body streams in (app/http/limits.py): ordinary routes get
    # body_max_bytes; intake gets room for its photos, uploads upload_max_bytes, batch locate its own.
    body_max_bytes: int = Field(default=1024 * 1024, ge=1024)
    locate_batch_max_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    json_max_depth: int = Field(default=64, ge=4, le=500)
    # Archives (zipped Shapefile, GeoPackage …) are checked before anything is extracted.
    unzip_max_bytes: int = Field(default=1024 * 1024 * 1024, ge=1024)
    unzip_max_ratio: float = Field(default=200.0, ge=2)
    unzip_max_files: int = Field(default=200, ge=1)
    # Reverse proxies whose X-Forwarded-Proto/-For are believed (IPs or networks; "*" = any).
    trusted_proxies: list[str] = Field(default_factory=lambda: ["127.0.0.1"])

    # Maps: an XYZ tile URL for the base map, e.g. the county's own intranet tile server. Empty (the
    # default, for an intranet with no tile server) means areas, roads and buildings are the base.
    basemap_url: str = ""
    basemap_attribution: str = ""

    # Sections owned by a domain (their shapes live beside the domain; values are set here or by
    # GRIDGOV_<SECTION>__<NAME>).
    incidents: IncidentSettings = Field(default_factory=IncidentSettings)
    visits: VisitSettings = Field(default_factory=VisitSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)

    @field_validator("database_url")
    @classmethod
    def _dsn_is_postgres(cls, v: str | None) -> str | None:
        if v is None or v == "":
            return None
        if not v.startswith(("postgresql://", "postgresql+psycopg://", "postgres://")):
            raise ValueError("GRIDGOV_DATABASE_URL must be a postgresql:// URL")
        if v.startswith("postgres://"):
            v = "postgresql://" + v[len("postgres://") :]
        if v.startswith("postgresql://"):
            v = "postgresql+psycopg://" + v[len("postgresql://") :]
        return v

    @model_validator(mode="after")
    def _checks(self) -> Settings:
        if not self.secret_key and self.environment == "test":
            self.secret_key = _TEST_PROCESS_KEY
        if self.environment == "test":
            self.register_key = self.register_key or _TEST_REGISTER_KEYS[0]
            self.register_hash_key = self.register_hash_key or _TEST_REGISTER_KEYS[1]
        if not self.household_band_min <= self.household_target <= self.household_band_max:
            raise ValueError("household_target must lie inside the household band")
        if self.micro_household_band_min > self.micro_household_band_max:
            raise ValueError("micro_household_band_min must not exceed micro_household_band_max")
        return self

    @property
    def household_band(self) -> tuple[int, int]:
        return (self.household_band_min, self.household_band_max)

    @property
    def household_bands(self) -> dict[str, tuple[int, int]]:
        """The household band of each level that has one: ``grid`` and ``micro_grid``."""
        return {
            "grid": self.household_band,
            "micro_grid": (self.micro_household_band_min, self.micro_household_band_max),
        }


@lru_cache
def get_settings() -> Settings:
    return Settings()

"""Every operation of the OpenAPI, driven by schemathesis with generated valid and invalid input,
as a county admin and anonymously: no answer is a 5xx, and every answer's status code and body are
the ones the OpenAPI declares (so the error shape of app/errors.py is what clients are told)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.config import SchemathesisConfig

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]

# The boundary values of every parameter (huge ids, empty strings, NUL...) as admin; fewer, random
# examples anonymously, where most answers are a 401/403. Bounded: the whole file runs in ~2 minutes.
ADMIN = SchemathesisConfig.from_dict({"phases": {"coverage": {"unexpected-methods": []}}})
ANONYMOUS = SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": False}}})
SETTINGS = {"deadline": None, "suppress_health_check": list(HealthCheck), "derandomize": True}


@pytest.fixture
def admin_schema(app_factory):  # type: ignore[no-untyped-def]
    return schemathesis.openapi.from_asgi("/openapi.json", app_factory(), config=ADMIN)


@pytest.fixture
def anonymous_schema(app_factory):  # type: ignore[no-untyped-def]
    return schemathesis.openapi.from_asgi("/openapi.json", app_factory(), config=ANONYMOUS)


@pytest.fixture
def admin(token_for):  # type: ignore[no-untyped-def]
    return token_for("county_admin", username="schemathesis-admin")


# Signing out would end the admin's session for the rest of the run.
as_admin = schemathesis.pytest.from_fixture("admin_schema").exclude(path="/api/v1/auth/logout")
as_anonymous = schemathesis.pytest.from_fixture("anonymous_schema")


@as_admin.parametrize()
@settings(max_examples=5, **SETTINGS)
def test_every_operation_as_county_admin(case, admin):  # type: ignore[no-untyped-def]
    case.call_and_validate(headers=admin, checks=CHECKS)


@as_anonymous.parametrize()
@settings(max_examples=3, **SETTINGS)
def test_every_operation_anonymously(case):  # type: ignore[no-untyped-def]
    case.call_and_validate(checks=CHECKS)

"""ASGI entry for uvicorn workers: ``uvicorn app.asgi:app`` (settings from GRIDGOV_* variables)."""

from app.main import create_app

app = create_app()

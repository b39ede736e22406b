"""The pages' templates (web/templates), for the pages and for the HTML error page of app/errors.py;
a module of its own, importing nothing of the app, so both can use it without importing each other."""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates

WEB_DIR = Path(__file__).resolve().parents[2] / "web"
templates = Jinja2Templates(directory=WEB_DIR / "templates")

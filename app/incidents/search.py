"""Finding a case by what a caller on the phone says: its number, the reporter's phone, the address
(``GET /api/v1/incidents?q=``; docs/architecture.md#case-search).

One text box, three meanings, any of which may match:

- **case number** (``SJ2026120100000042``): the whole number or its beginning, in any case of
  letters; a string of at least six digits also matches the number's end (the digits a person
  reads out);
- **reporter's phone**: the *whole* number only (at least 7 digits; spaces, dashes and a leading
  +86 ignored). A part of a number matches nothing, so the search cannot be used to guess numbers
  digit by digit. The answer shows the number as the policy lets the caller see it (masked for
  roles without ``Field.REPORTER_CONTACT``): matching the full number reveals nothing the caller did
  not type;
- **address**: any part of it, letters' case ignored.

The search runs inside the caller's scope like every listing (``case_filters``), and row-level
security holds it again in the database.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import ColumnElement, String, false, func, or_

from app.errors import InvalidInput
from app.incidents.models import Incident

MIN_LENGTH = 2
MAX_LENGTH = 100
_PHONE = re.compile(r"^\+?[0-9][0-9 \-]{5,}$")
_CASE_NO = re.compile(r"^[A-Za-z]{0,8}[0-9]+$")


def _digits(column: Any) -> ColumnElement[str]:
    return func.regexp_replace(column, "[^0-9]", "", "g", type_=String)


def phone_digits(text: str) -> str | None:
    """The digits of a whole phone number typed in ``text`` (without +86), or None."""
    if not _PHONE.match(text):
        return None
    digits = re.sub(r"[^0-9]", "", text)
    if text.startswith("+86") or (len(digits) == 13 and digits.startswith("86")):
        digits = digits[2:]
    return digits if len(digits) >= 7 else None


def matches(q: str) -> ColumnElement[bool]:
    """The condition "this case answers to ``q``" (a case number, a whole phone number, a part of
    an address); a 422 for a query too short to mean anything."""
    text = q.strip()
    if len(text) < MIN_LENGTH:
        raise InvalidInput(
            f"q: 请至少输入 {MIN_LENGTH} 个字符（案件编号、报告人电话或地址）", field="q"
        )
    if len(text) > MAX_LENGTH:
        raise InvalidInput(f"q: 搜索内容不超过 {MAX_LENGTH} 个字符", field="q")
    found: list[ColumnElement[bool]] = [Incident.address.icontains(text, autoescape=True)]
    if _CASE_NO.match(text):
        number = text.upper()
        found.append(Incident.case_no.startswith(number, autoescape=True))
        if number.isdigit() and len(number) >= 6:
            found.append(Incident.case_no.endswith(number, autoescape=True))
    phone = phone_digits(text)
    if phone is not None:
        found.append(_digits(Incident.reporter_phone).in_([phone, "86" + phone]))
    return or_(false(), *found)

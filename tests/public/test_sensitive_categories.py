"""Sensitivity is data: read from the category file, shown in the category list, unjudged = sensitive."""

from __future__ import annotations

import pytest

from app.incidents.categories import DEFAULT_FILE, read_category_file

HEADER = (
    "code,parent_code,name,default_tier,limit_value,limit_unit,urgent_limit_value,"
    "urgent_limit_unit,open_condition,close_condition"
)
ROW = "04,,环境卫生,community,,,,,,"  # a big class: ten fields, no time limit


def test_the_shipped_table_marks_disputes_public_order_and_personal_requests():
    flags = {r["code"]: r["sensitive"] for r in read_category_file(DEFAULT_FILE)}
    sensitive = {code for code, s in flags.items() if s}
    assert sensitive == {
        "01", "0101", "0102", "0103", "0104", "0105", "0106",
        "03", "0301", "0302", "0303", "0304", "0305",
        "0602", "0603", "0604", "0606", "0703", "0704",
        "09", "0901", "0902",  # a family's death or wedding: personal, never on the public map
    }  # fmt: skip


@pytest.mark.parametrize(
    ("header", "value", "expected"),
    [(",sensitive", ",no", False), (",sensitive", ",yes", True), (",sensitive", ",", True),
     ("", "", True)],
)  # fmt: skip
def test_a_blank_or_missing_flag_means_sensitive(tmp_path, header, value, expected):
    path = tmp_path / "c.csv"
    path.write_text(f"{HEADER}{header}\n{ROW}{value}\n", encoding="utf-8")
    assert read_category_file(path)[0]["sensitive"] is expected


def test_a_bad_flag_names_the_line(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text(f"{HEADER},sensitive\n{ROW},maybe\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"c.csv:2: sensitive 'maybe'"):
        read_category_file(path)


def test_categories_say_whether_they_are_sensitive(api, token_for):
    cats = {c["code"]: c for c in api.get("/api/v1/incident-categories").json()}
    assert cats["0101"]["sensitive"] is True and cats["0401"]["sensitive"] is False
    admin = token_for("county_admin")
    body = {"code": "0499", "parent_code": "04", "name": "新小类", "limit_value": 2,
            "limit_unit": "working_hours"}  # fmt: skip
    created = api.put("/api/v1/incident-categories/0499", json=body, headers=admin)
    assert created.status_code == 200 and created.json()["sensitive"] is True  # unjudged
    public = api.put(
        "/api/v1/incident-categories/0499", json={**body, "sensitive": False}, headers=admin
    )
    assert public.status_code == 200 and public.json()["sensitive"] is False

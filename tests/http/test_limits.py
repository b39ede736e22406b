"""Body limits at the ASGI layer: refused as the body arrives, per-route limits, JSON depth, CSV
rows, zip bombs refused before extraction."""

from __future__ import annotations

import asyncio
import io
import struct
import tempfile
import zipfile
import zlib
from pathlib import Path

import geopandas as gpd
import pytest
from fastapi.testclient import TestClient
from shapely.geometry import box

from app.http.limits import BodyLimitMiddleware, json_too_deep
from app.settings import Settings
from tests.http.conftest import IN_G11

# A JSON write with the ordinary body limit (a plan's creation); intake, photos, check-ins with a
# photo, imports and batch locate have larger ones (app/http/limits.py).
ORDINARY = "/api/v1/plans"

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def test_declared_length_over_the_limit_is_413_before_the_route_runs(small, token_for) -> None:  # type: ignore[no-untyped-def]
    body = b'{"community_code": "419901001001", "note": "' + b"x" * 10_000 + b'"}'
    r = small.post(
        ORDINARY,
        content=body,
        headers={**token_for("grid_worker"), "content-type": "application/json"},
    )
    assert r.status_code == 413
    assert r.json()["detail"] == "请求内容超过 4 KB 上限；请缩小文件、减少照片或分批提交"


def test_streamed_body_without_length_is_cut_off_at_the_limit(small, token_for) -> None:  # type: ignore[no-untyped-def]
    def chunks():  # type: ignore[no-untyped-def]
        yield b'{"community_code": "419901001001", "note": "'
        for _ in range(100):
            yield b"x" * 500
        yield b'"}'

    r = small.post(
        ORDINARY,
        content=chunks(),  # sent chunked: no Content-Length to refuse early
        headers={**token_for("grid_worker"), "content-type": "application/json"},
    )
    assert r.status_code == 413
    assert r.json()["detail"] == "请求内容超过 4 KB 上限；请缩小文件、减少照片或分批提交"


def test_middleware_stops_reading_as_soon_as_the_limit_is_passed() -> None:
    """The ASGI contract itself: a chunked body of 1,000 × 1 KB against a 4 KB limit is answered
    413 after 5 chunks, and the rest is never read."""
    read = 0

    async def receive():  # type: ignore[no-untyped-def]
        nonlocal read
        read += 1
        return {"type": "http.request", "body": b"x" * 1024, "more_body": read < 1000}

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        while (await receive()).get("more_body"):
            pass
        raise AssertionError("the whole body was read")

    sent: list[dict] = []

    async def send(message):  # type: ignore[no-untyped-def]
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": ORDINARY, "headers": []}
    middleware = BodyLimitMiddleware(app, Settings(environment="test", body_max_bytes=4096))
    asyncio.run(middleware(scope, receive, send))
    assert read == 5
    assert sent[0]["status"] == 413
    assert "4 KB" in sent[1]["body"].decode()


def test_intake_with_photos_has_room_beyond_the_ordinary_limit(small, county, token_for) -> None:  # type: ignore[no-untyped-def]
    photo = PNG + b"\0" * 20_000  # 20 KB: over the 4 KB ordinary limit, under the photo limit
    r = small.post(
        "/api/v1/incidents",
        data={"category_code": "0401", "description": "垃圾堆积", **IN_G11},
        files=[("photos", ("a.png", photo, "image/png"))],
        headers=token_for("dispatcher"),
    )
    assert r.status_code == 201, r.text


def _geojson(tmp_path: Path, pad: int) -> bytes:
    areas = gpd.GeoDataFrame(
        {"code": ["419902"], "name": ["测试县"], "pad": ["x" * pad]},
        geometry=[box(114.0, 35.0, 114.01, 35.01)],
        crs=4490,
    )
    areas.to_file(tmp_path / "a.geojson", driver="GeoJSON")
    return (tmp_path / "a.geojson").read_bytes()


def test_upload_routes_take_upload_max_bytes(app_factory, token_for, tmp_path) -> None:  # type: ignore[no-untyped-def]
    planner = token_for("planner")
    with TestClient(app_factory(body_max_bytes=4096, upload_max_bytes=8192)) as c:
        # over the route's limit (the file's 8 KB + 4 KB of form fields): cut off as it streams
        big = _geojson(tmp_path, 14_000)
        r = c.post("/api/v1/imports/areas", files={"file": ("a.geojson", big)}, headers=planner)
        assert r.status_code == 413
        assert r.json()["detail"].startswith("请求内容超过 12 KB 上限")
        # within it, but the file alone is over upload_max_bytes: the upload helper says so
        middling = _geojson(tmp_path, 9_000)
        r = c.post("/api/v1/plans/upload", files={"file": ("a.geojson", middling)},
                   data={"community_code": "419901001001"}, headers=planner)  # fmt: skip
        assert r.status_code == 413 and r.json()["detail"] == "文件超过 8 KB 上限"
    with TestClient(app_factory(body_max_bytes=4096, upload_max_bytes=64_000)) as c:
        r = c.post("/api/v1/imports/areas", files={"file": ("a.geojson", big)}, headers=planner)
        assert r.status_code == 200 and r.json()["inserted"] == 1


def test_batch_locate_has_its_own_limit(app_factory) -> None:  # type: ignore[no-untyped-def]
    csv = "id,lng,lat\n" + "".join(f"p{i},113.002,34.005\n" for i in range(1000))
    with TestClient(app_factory(locate_batch_max_bytes=8192)) as c:
        r = c.post("/api/v1/locate", content=csv, headers={"content-type": "text/csv"})
        assert r.status_code == 413 and "8 KB" in r.json()["detail"]


def test_csv_rows_over_the_batch_limit_are_413(app_factory) -> None:  # type: ignore[no-untyped-def]
    rows = "id,lng,lat\n" + "".join(f"p{i},113.002,34.005\n" for i in range(10))
    with TestClient(app_factory(locate_batch_max=3)) as c:
        r = c.post("/api/v1/locate", content=rows, headers={"content-type": "text/csv"})
        assert r.status_code == 413
        assert r.json()["detail"] == "一次最多定位 3 个点，本次超过此数；请分批提交"
        upload = c.post("/api/v1/locate", files={"file": ("p.csv", rows)})
        assert upload.status_code == 413
        three = "id,lng,lat\n" + "".join(f"p{i},113.002,34.005\n" for i in range(3))
        ok = c.post("/api/v1/locate", content=three, headers={"content-type": "text/csv"})
        assert ok.status_code == 200 and ok.json()["count"] == 3
        points = [{"id": i, "lng": 113.002, "lat": 34.005} for i in range(4)]
        assert c.post("/api/v1/locate", json=points).status_code == 413
        columnar = {"lng": [113.002] * 4, "lat": [34.005] * 4}
        assert c.post("/api/v1/locate", json=columnar).status_code == 413


DEEP = b"[" * 200_000


@pytest.mark.parametrize("path", ["/api/v1/locate", "/api/v1/incidents", "/api/v1/visits"])
def test_deeply_nested_json_is_refused_before_parsing(client, token_for, path) -> None:  # type: ignore[no-untyped-def]
    r = client.post(
        path,
        content=DEEP,
        headers={**token_for("grid_worker"), "content-type": "application/json"},
    )
    assert r.status_code == 422
    assert r.json()["detail"] == "JSON 嵌套超过 64 层，无法处理"


def test_json_depth_counts_structure_not_brackets_inside_strings() -> None:
    assert not json_too_deep(b'{"a": "' + b"[" * 500 + b'"}', 64)
    assert not json_too_deep(b"[" * 64 + b"]" * 64, 64)
    assert json_too_deep(b"[" * 65 + b"]" * 65, 64)
    assert json_too_deep(b"[{" * 40 + b"}]" * 40, 64)
    # closing brackets hidden in a string do not let a deep nest through
    assert json_too_deep(b'["' + b"]" * 500 + b'", ' + b"[" * 100 + b"]" * 100 + b"]", 64)
    # escaped quotes do not end a string
    assert not json_too_deep(b'["\\"' + b"[" * 100 + b'"]', 64)
    # many shallow records (a batch) are fine, and an unterminated string is no trap
    assert not json_too_deep(b"[" + b'{"id": "a", "lng": [1, 2]},' * 10_000 + b"{}]", 64)
    assert not json_too_deep(b'["' + b"\\" * 1000, 64)


def test_json_within_the_depth_limit_reaches_the_route(client) -> None:  # type: ignore[no-untyped-def]
    nested = {"points": [{"id": "a", "lng": 113.002, "lat": 34.005, "x": [[[[[[1]]]]]]}]}
    r = client.post("/api/v1/locate", json=nested)
    assert r.status_code == 200 and r.json()["count"] == 1


# -- archives -----------------------------------------------------------------------------------


def _deflate_zip(name: str, zero_chunks: int, chunk: int = 1 << 24) -> bytes:
    """A real zip whose one member inflates to ``zero_chunks`` × 16 MiB of zeros (deflate's ~1000:1
    at best), written by hand so that no gigabyte is ever compressed: one fully flushed deflate
    block of 16 MiB of zeros repeated, then an empty final block."""
    zeros = b"\0" * chunk
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = comp.compress(zeros) + comp.flush(zlib.Z_FULL_FLUSH)
    data = block * zero_chunks + zlib.compressobj(9, zlib.DEFLATED, -15).flush()
    crc = 0
    for _ in range(zero_chunks):
        crc = zlib.crc32(zeros, crc)
    size = chunk * zero_chunks
    raw = name.encode()
    local = struct.pack(
        "<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(data), size, len(raw), 0
    )
    central = struct.pack(
        "<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, crc, len(data), size,
        len(raw), 0, 0, 0, 0, 0, 0,
    )  # fmt: skip
    cd_offset = len(local) + len(raw) + len(data)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central) + len(raw), cd_offset, 0)
    return local + raw + data + central + raw + end


@pytest.fixture
def spy_tmp(monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    """Temporary files go to a directory of the test's own; every zip member opened is noted."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    opened: list[str] = []
    real_open = zipfile.ZipFile.open

    def open_member(self, name, *args, **kwargs):  # type: ignore[no-untyped-def]
        opened.append(getattr(name, "filename", name))
        return real_open(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", open_member)
    return tmp, opened


def test_zip_bomb_is_refused_before_anything_is_extracted(client, token_for, spy_tmp) -> None:  # type: ignore[no-untyped-def]
    tmp, opened = spy_tmp
    bomb = _deflate_zip("grids.shp", 66)  # 1.03 GiB of zeros in a ~1 MB file
    assert len(bomb) < 1_200_000
    assert zipfile.ZipFile(io.BytesIO(bomb)).infolist()[0].file_size > 1 << 30
    for path, extra in (("/api/v1/imports/grids", {}), ("/api/v1/plans/upload", {"community_code": "419901001001"})):  # fmt: skip
        r = client.post(
            path,
            files={"file": ("grids.zip", bomb, "application/zip")},
            data=extra,
            headers=token_for("planner"),
        )
        assert r.status_code == 413, r.text
        assert r.json()["detail"] == (
            "ZIP 解压后共 1056 MB，超过 1024 MB 上限；请只打包需要导入的图层"
        )
    assert opened == []
    assert list(tmp.iterdir()) == []


def test_zip_with_an_absurd_compression_ratio_is_refused(client, token_for, spy_tmp) -> None:  # type: ignore[no-untyped-def]
    tmp, opened = spy_tmp
    dense = _deflate_zip("grids.dbf", 2)  # 32 MiB in ~32 KB: 1000:1, under the size limit
    r = client.post(
        "/api/v1/imports/grids",
        files={"file": ("grids.zip", dense)},
        headers=token_for("planner"),
    )
    assert r.status_code == 422
    assert r.json()["detail"].startswith("ZIP 中的 grids.dbf 压缩比异常（1028:1，上限 200:1）")
    assert opened == [] and list(tmp.iterdir()) == []


def test_zip_with_too_many_members_is_refused(client, token_for) -> None:  # type: ignore[no-untyped-def]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for i in range(201):
            zf.writestr(f"f{i}.txt", "x")
    r = client.post(
        "/api/v1/imports/grids",
        files={"file": ("many.zip", buf.getvalue())},
        headers=token_for("planner"),
    )
    assert r.status_code == 422 and r.json()["detail"] == "ZIP 内文件过多：201 个，最多 200 个"


def test_zipped_shapefile_still_imports(client, token_for, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    areas = gpd.GeoDataFrame(
        {"code": ["419902"], "name": ["测试县"]},
        geometry=[box(114.0, 35.0, 114.01, 35.01)],
        crs=4490,
    )
    areas.to_file(tmp_path / "areas.shp", encoding="UTF-8")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for part in tmp_path.glob("areas.*"):
            zf.write(part, f"../evil/{part.name}")  # a path that climbs out is kept inside
    r = client.post(
        "/api/v1/imports/areas",
        files={"file": ("areas.zip", buf.getvalue())},
        headers=token_for("planner"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["inserted"] == 1 and r.json()["committed"] is False
    empty = io.BytesIO()
    with zipfile.ZipFile(empty, "w") as zf:
        zf.writestr("readme.txt", "no data here")
    r = client.post(
        "/api/v1/imports/areas",
        files={"file": ("areas.zip", empty.getvalue())},
        headers=token_for("planner"),
    )
    assert r.status_code == 422 and r.json()["detail"].startswith("ZIP 中没有可导入的文件")
    broken = client.post(
        "/api/v1/imports/areas",
        files={"file": ("areas.zip", b"PK\x03\x04 not really")},
        headers=token_for("planner"),
    )
    assert broken.status_code == 422 and broken.json()["detail"].startswith("ZIP 文件已损坏")

"""The register's keys: no default, a clear refusal, kept in the data directory by `gridgov run`."""

from __future__ import annotations

import stat

import pytest

from app.register import idnumbers
from app.register.keys import MissingRegisterKey, provide_keys, register_keys
from app.settings import Settings


def test_without_keys_the_register_refuses_naming_what_to_set(tmp_path):
    settings = Settings(environment="development", data_dir=tmp_path)
    with pytest.raises(MissingRegisterKey) as refused:
        register_keys(settings)
    assert "GRIDGOV_REGISTER_KEY" in refused.value.message
    assert "GRIDGOV_REGISTER_HASH_KEY" in refused.value.message
    assert refused.value.status_code == 503
    same = "k" * 40
    with pytest.raises(MissingRegisterKey, match="必须不同"):
        register_keys(
            Settings(environment="development", register_key=same, register_hash_key=same)
        )


def test_run_makes_the_keys_once_and_other_commands_only_read_them(tmp_path, monkeypatch):
    monkeypatch.delenv("GRIDGOV_REGISTER_KEY", raising=False)
    monkeypatch.delenv("GRIDGOV_REGISTER_HASH_KEY", raising=False)
    reader = Settings(environment="development", data_dir=tmp_path)
    assert provide_keys(reader, create=False) == []  # nothing there yet: nothing made
    assert reader.register_key is None
    first = Settings(environment="development", data_dir=tmp_path)
    lines = provide_keys(first, create=True)
    assert len(lines) == 2 and all("首次启动" in line for line in lines)
    for name in ("register_key", "register_hash_key"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600
    keys = register_keys(first)
    sealed = idnumbers.seal(keys, "11010519491231002X")
    # (``run`` also hands them to the processes it starts through the environment)
    monkeypatch.delenv("GRIDGOV_REGISTER_KEY")
    monkeypatch.delenv("GRIDGOV_REGISTER_HASH_KEY")
    again = Settings(environment="development", data_dir=tmp_path)
    assert all("沿用" in line for line in provide_keys(again, create=False))
    assert idnumbers.unseal(register_keys(again), sealed) == "11010519491231002X"

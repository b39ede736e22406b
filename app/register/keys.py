"""The register's two keys, never in code nor in the database (docs/register.md#id-numbers).

- ``GRIDGOV_REGISTER_KEY`` seals ID numbers (AES-256-GCM; the 32-byte key is derived from the
  configured secret with HKDF-SHA256, so any secret of 32+ characters will do);
- ``GRIDGOV_REGISTER_HASH_KEY`` finds them (HMAC-SHA256 of the normalised number), for lookup and
  for refusing the same person twice. It is a separate key: the lookup index gives nothing away
  to someone who has the database and the sealing key's ciphertexts but not this key.

As with the signing key (app/auth/keys.py): ``gridgov run`` keeps both in the data directory
(0600, made on first start); any other start must be given them, and without them the register
refuses to work (503 on its routes, an error from its commands). The environment ``test`` gets
random keys per process (app/settings.py). Losing the sealing key loses the ID numbers: back it up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.errors import ServiceUnavailable
from app.settings import Settings

KEY_ENV = "GRIDGOV_REGISTER_KEY"
HASH_KEY_ENV = "GRIDGOV_REGISTER_HASH_KEY"
KEY_FILES = {KEY_ENV: "register_key", HASH_KEY_ENV: "register_hash_key"}


class MissingRegisterKey(ServiceUnavailable):
    """The register cannot work: a key is not configured."""


@dataclass(frozen=True)
class RegisterKeys:
    seal: bytes  # 32 bytes, AES-256-GCM
    lookup: bytes  # HMAC-SHA256 key


def _derive(secret: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
        secret.encode("utf-8")
    )


def register_keys(settings: Settings) -> RegisterKeys:
    """The configured keys, or a refusal saying what to set."""
    missing = [
        env
        for env, value in (
            (KEY_ENV, settings.register_key),
            (HASH_KEY_ENV, settings.register_hash_key),
        )
        if not value
    ]
    if missing or not settings.register_key or not settings.register_hash_key:
        raise MissingRegisterKey(
            f"实有人口登记簿未配置密钥 {'、'.join(missing)}，拒绝处理身份证号。请设置这两个环境变量"
            "（各至少 32 个字符，两者不同，例如 `python3 -c 'import secrets; print(secrets.token_urlsafe(48))'`），"
            "或用 `gridgov run` 启动（它在数据目录生成并保存密钥）。"
        )
    if settings.register_key == settings.register_hash_key:
        raise MissingRegisterKey(
            f"{KEY_ENV} 与 {HASH_KEY_ENV} 相同；两把密钥必须不同（一把加密，一把用于查找）"
        )
    return RegisterKeys(
        seal=_derive(settings.register_key, b"gridgov register id seal"),
        lookup=_derive(settings.register_hash_key, b"gridgov register id lookup"),
    )


def provide_keys(settings: Settings, *, create: bool) -> list[str]:
    """Fill the settings' register keys from ``<data_dir>`` where the environment gives none:
    created there (0600) on first start by ``gridgov run`` (``create``), only read by the other
    commands. Sets the environment too, for the processes ``run`` starts. Returns what it did."""
    import os

    from app.auth.keys import ensure_key_file

    lines = []
    for env, attribute in ((KEY_ENV, "register_key"), (HASH_KEY_ENV, "register_hash_key")):
        if getattr(settings, attribute):
            lines.append(f"登记簿密钥 {env}：来自环境变量")
            continue
        path = settings.data_dir.resolve() / KEY_FILES[env]
        if not create and not path.exists():
            continue
        key, path, created = ensure_key_file(settings.data_dir, KEY_FILES[env])
        setattr(settings, attribute, key)
        os.environ[env] = key
        lines.append(
            f"登记簿密钥 {env}：{path}（{'首次启动，已生成' if created else '沿用'}；权限 0600，"
            "丢失则已登记的身份证号无法解密，请备份）"
        )
    return lines


SESSION_KEY = "register_keys"


def attach_keys(session: Any, settings: Settings) -> None:
    """Hand the register's keys to work done in ``session`` that has no settings of its own (the
    demo steps), if they are configured."""
    try:
        session.info[SESSION_KEY] = register_keys(settings)
    except MissingRegisterKey:
        session.info.pop(SESSION_KEY, None)

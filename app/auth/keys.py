"""The signing key: never in code. ``gridgov run`` keeps a random one in ``<data_dir>/secret_key``
(mode 0600, made on first start, reused after); every other start (``uvicorn app.asgi``, the
worker, a container) must be given ``GRIDGOV_SECRET_KEY`` and refuses to start without it. The
environment ``test`` gets a random key per process (app/settings.py)."""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from app.settings import Settings

KEY_FILE = "secret_key"
ENV_VAR = "GRIDGOV_SECRET_KEY"


class MissingSecretKey(RuntimeError):
    """Start-up refused: no signing key configured."""


def signing_key(settings: Settings) -> str:
    """The configured key, or a clear refusal naming what to do."""
    if not settings.secret_key:
        raise MissingSecretKey(
            f"未设置签名密钥 {ENV_VAR}，拒绝启动。请设置环境变量 {ENV_VAR}"
            "（至少 32 个字符，例如 `python3 -c 'import secrets; print(secrets.token_urlsafe(48))'`），"
            "或用 `gridgov run` 启动（它在数据目录生成并保存密钥）。"
            f" / {ENV_VAR} is not set: refusing to start."
        )
    return settings.secret_key


def ensure_key_file(data_dir: Path, name: str = KEY_FILE) -> tuple[str, Path, bool]:
    """The key kept in ``data_dir/<name>`` (``secret_key`` by default; the register keeps its two
    keys the same way): read it, or create it (0600) if absent.

    Returns (key, path, created). A key file others can read is refused: a leaked key lets anyone
    sign tokens."""
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = data_dir.resolve() / name
    if path.exists():
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise MissingSecretKey(
                f"密钥文件 {path} 的权限为 {mode:o}，其他用户可读；请执行 chmod 600 {path} 后重试"
            )
        key = path.read_text(encoding="ascii").strip()
        if len(key) < 32:
            raise MissingSecretKey(
                f"密钥文件 {path} 内容无效（少于 32 个字符）；删除后重启将重新生成"
            )
        return key, path, False
    # O_EXCL: two starts at once cannot both write a key; 0600 from the first byte.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    key = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(key + "\n")
    return key, path, True

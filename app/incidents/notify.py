"""Notification channels behind one interface. A channel is registered only when it is configured;
nothing pretends to send.

Built in: a generic JSON webhook, and the WeCom (企业微信) group-robot webhook. An SMS adapter needs a
provider account and SDK and is not shipped; it would implement ``Channel`` the same way.
"""

from __future__ import annotations

from typing import Any, Protocol

import httpx

from app.incidents.config import IncidentSettings


class Channel(Protocol):
    name: str

    def send(self, kind: str, payload: dict[str, Any]) -> None:
        """Deliver or raise; the outbox retries on any exception."""


class WebhookChannel:
    name = "webhook"

    def __init__(self, url: str, *, timeout: float = 5.0) -> None:
        self.url = url
        self.timeout = timeout

    def send(self, kind: str, payload: dict[str, Any]) -> None:
        response = httpx.post(self.url, json={"kind": kind, **payload}, timeout=self.timeout)
        response.raise_for_status()


class WeComRobotChannel:
    """企业微信群机器人: POST {"msgtype": "text", ...}; errcode 0 means delivered."""

    name = "wecom"

    def __init__(self, url: str, *, timeout: float = 5.0) -> None:
        self.url = url
        self.timeout = timeout

    def send(self, kind: str, payload: dict[str, Any]) -> None:
        content = (
            f"【事件{payload.get('case_no', '')}】{payload.get('action', kind)}："
            f"状态 {payload.get('state', '')}，网格 {payload.get('grid_code', '')}，"
            f"层级 {payload.get('tier', '')}{'，督办' if payload.get('supervised') else ''}"
        )
        response = httpx.post(
            self.url, json={"msgtype": "text", "text": {"content": content}}, timeout=self.timeout
        )
        response.raise_for_status()
        body = response.json()
        if body.get("errcode", 0) != 0:
            raise RuntimeError(f"wecom errcode {body.get('errcode')}: {body.get('errmsg')}")


def configured_channels(settings: IncidentSettings) -> list[Channel]:
    channels: list[Channel] = []
    if settings.webhook_url:
        channels.append(
            WebhookChannel(settings.webhook_url, timeout=settings.notify_timeout_seconds)
        )
    if settings.wecom_webhook_url:
        channels.append(
            WeComRobotChannel(settings.wecom_webhook_url, timeout=settings.notify_timeout_seconds)
        )
    return channels

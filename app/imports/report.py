"""What an import did (or would do): counts, repairs, rejections with feature number and reason."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class RowNote:
    feature: int  # 1-based position in the file, as a planner would count
    code: str | None
    reason: str


@dataclass
class ImportReport:
    kind: str
    source: str
    committed: bool = False
    total: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    repaired: list[RowNote] = field(default_factory=list)
    rejected: list[RowNote] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return self.inserted + self.updated + self.unchanged

    def reject(self, feature: int, code: str | None, reason: str) -> None:
        self.rejected.append(RowNote(feature, code, reason))

    def repair(self, feature: int, code: str | None, reason: str) -> None:
        self.repaired.append(RowNote(feature, code, reason))

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "accepted": self.accepted}

    def render(self) -> str:
        mode = "已写入数据库" if self.committed else "试运行（未写入；加 --commit 写入）"
        lines = [
            f"导入 {self.kind}：{self.source}  [{mode}]",
            f"  共 {self.total} 条：新增 {self.inserted}，更新 {self.updated}，未变 {self.unchanged}，"
            f"修复 {len(self.repaired)}，拒绝 {len(self.rejected)}",
        ]
        lines += [f"  说明：{n}" for n in self.notes]
        lines += [f"  修复 第{r.feature}条 {r.code or ''}：{r.reason}" for r in self.repaired[:50]]
        lines += [f"  拒绝 第{r.feature}条 {r.code or ''}：{r.reason}" for r in self.rejected[:200]]
        if len(self.rejected) > 200:
            lines.append(f"  ……另有 {len(self.rejected) - 200} 条拒绝未列出")
        return "\n".join(lines)

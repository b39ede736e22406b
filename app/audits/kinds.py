"""Chinese labels of every finding kind (geometry ones from gis.coverage, then the database's)."""

KIND_LABELS = {
    "invalid_geometry": "几何图形无效",
    "gap": "网格缝隙",
    "overlap": "网格重叠",
    "sliver": "碎片/狭长图形",
    "crosses_community": "网格越出社区边界",
    "household_outside": "住户不在任何网格内",
    "building_outside": "楼栋不在任何网格内",
    "building_split": "楼栋被网格分割",
    "household_band": "网格户数超出范围",
    "micro_outside_grid": "微网格越出所属网格",
    "micro_overlap": "微网格相互重叠",
    "micro_gap": "网格内未划入微网格的区域",
    "household_no_micro": "住户不在任何微网格内",
    "micro_band": "微网格户数超出范围",
    "no_leader": "网格无网格长",
    "low_visit_coverage": "走访覆盖率低于目标",
    "special_group_overdue": "特殊群体住户走访超期",
    "case_overdue": "案件超期",
    # Workforce duties (app/duties, docs/duties.md)
    "arrival_overdue": "四必到未到场",
    "field_days_short": "网格员月入户天数不足",
    "no_full_time_worker": "网格无专职网格员",
    "cadre_visit_missing": "联系干部未走访全部住户",
}

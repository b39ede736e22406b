/* Every colour the pages draw with, each constant with one meaning. Several meanings share a hue
   (green is "on time", "within the band", "has a leader", "visited"), but a page never borrows
   another meaning's constant: change what "overdue" looks like here and only overdue changes. */

const GREEN = "#12b76a", AMBER = "#f79009", RED = "#d92d20", GREY = "#98a2b3";

/** Case deadline (urgency from the cases layer): the red light. */
export const URGENCY = { on_time: GREEN, due_soon: AMBER, overdue: RED };

/** A case's deadline light (the case output's deadline.light): 红黄绿灯, and 挂账 grey. */
export const LIGHT = { green: GREEN, amber: AMBER, red: RED, paused: GREY };

/** The ring of a case marker: its lifecycle state. */
export const STATE_RING = { reported: "#7a5af8", accepted: "#2e90fa", registered: "#0b63b0", dispatched: "#06aed4", returned: "#c11574", handling: "#344054", handled: "#667085", checking: "#15b79e", verified: GREY };
export const STATE_RING_OTHER = "#344054";

/** A grid's households against the band (dedicated grids are exempt). */
export const BAND = { below: AMBER, within: GREEN, above: RED, exempt: "#b8c2cc" };

/** A grid's leader. */
export const STAFFING = { leader: GREEN, none: RED };

/** Visit coverage steps, highest first: [lowest share, colour, legend text]. */
export const VISIT_STEPS = [[0.9, GREEN, "≥90%"], [0.6, "#84cc16", "60–90%"], [0.3, AMBER, "30–60%"], [0, RED, "<30%"]];

/** Any share or value the API has no data for. */
export const NO_DATA = GREY;

/** The visits map, one meaning per colour: visits are blue (the points and the heat map's scale,
    light to dark = few to many), households visited in the period green, not visited red, and a
    special-group household's ring purple. */
export const VISITS = { visit: "#1570ef", visited: GREEN, unvisited: RED, special: "#7a5af8" };
export const VISIT_HEAT = { 0.2: "#d1e9ff", 0.45: "#84caff", 0.7: "#2e90fa", 1.0: "#194185" };

/** Place and road names on the maps (labels.js): the text, its halo, and a road's line. */
export const LABEL = { text: "#1d2939", halo: "#fff", road: "#c9ced6" };

/** A plan's grids in the editor: in the band, out of it, selected; validation errors (gaps, overlaps). */
export const PLAN = { in_band: GREEN, out_of_band: AMBER, selected: "#0b63b0", finding: RED, building: "#475467", building_fill: "#fff", picked: "#0b63b0" };

/** KPI charts: closure rate bars, on-time handling bars, the overdue-rate trend. */
export const KPI = { closure: "#0b63b0", on_time: GREEN, overdue_trend: RED, axis: GREY, grid: "#e4e8ee", secondary: "#6b7785" };

/** A KPI's or a score's light against the county's thresholds (league tables): 红黄绿. */
export const KPI_LIGHT = { green: GREEN, amber: AMBER, red: RED };

/** The dashboard's map of a KPI without thresholds (counts, hours): light to dark = low to high,
    one neutral hue so that it never reads as good or bad; the region picked on the map. */
export const KPI_RAMP = ["#eff8ff", "#b2ddff", "#53b1fd", "#1570ef", "#194185"];
export const KPI_PICKED = "#101828";

/** Map outlines: the active grids (tiles), a coloured grid's edge, child areas to drill into, and the
    base layers from the database. */
export const OUTLINE = { grid: "#0b4f8a", grid_edge: "#344054", area: "#5b6b7c", area_fill: "#f7f3ea", building: "#9aa5b1", building_fill: "#cbd2d9" };

/** Audit findings by severity, and the finding picked from the list (the audits page). */
export const AUDIT = { error: RED, warning: AMBER, picked: "#0b63b0" };

/** Party-building on the coverage map (grids with / without a party organisation), and one colour
    per kind of task in the load per worker (admission page, dashboard). */
export const PARTY = { with_org: "#c01c28", without: "#d0d5dd", edge: "#7a271a" };
export const TASK_KINDS = ["#0b63b0", "#f79009", "#12b76a", "#7a5af8", "#ee46bc", "#06aed4", "#667085", "#b54708"];

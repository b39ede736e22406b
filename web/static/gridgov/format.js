/* Dates, times and numbers as the county reads them: calendar dates in Asia/Shanghai whatever the
   browser's own zone (never toISOString for a date: that is UTC, so before 08:00 "today" would be
   yesterday and the first of the month the last day of the month before), numbers with grouping.
   Pure functions (no page, no DOM): web/static/gridgov/tests/format.test.mjs runs them under node. */

export const ZONE = "Asia/Shanghai";

const DATE = new Intl.DateTimeFormat("en-CA", { timeZone: ZONE, year: "numeric", month: "2-digit", day: "2-digit" });
const pad = (n) => String(n).padStart(2, "0");

/** The calendar day of ``moment`` (a Date, a timestamp or an ISO string) in Asia/Shanghai, as {year, month (1-12), day}. */
export function dayParts(moment = new Date()) {
  const parts = {};
  for (const p of DATE.formatToParts(new Date(moment))) if (p.type !== "literal") parts[p.type] = Number(p.value);
  return { year: parts.year, month: parts.month, day: parts.day };
}

/** "YYYY-MM-DD": the date of ``moment`` in Asia/Shanghai. */
export function isoDate(moment = new Date()) {
  const { year, month, day } = dayParts(moment);
  return year + "-" + pad(month) + "-" + pad(day);
}

/** Today in Asia/Shanghai, "YYYY-MM-DD". */
export const today = (now = new Date()) => isoDate(now);

/** The month ``monthsBack`` months before the month of ``now`` (Asia/Shanghai):
    {year, month, start: "YYYY-MM-01", end: "YYYY-MM-<last day>", label: "3月"}. */
export function month(now = new Date(), monthsBack = 0) {
  const d = dayParts(now);
  const index = d.year * 12 + (d.month - 1) - monthsBack;
  const year = Math.floor(index / 12), m = (index % 12) + 1;
  const last = new Date(Date.UTC(year, m, 0)).getUTCDate(); // day 0 of the next month
  const prefix = year + "-" + pad(m) + "-";
  return { year, month: m, start: prefix + "01", end: prefix + pad(last), label: m + "月" };
}

/** The first day of the month ``monthsBack`` months before the month of ``now``, "YYYY-MM-01". */
export const firstOfMonth = (now = new Date(), monthsBack = 0) => month(now, monthsBack).start;

const DATE_TIME = new Intl.DateTimeFormat("zh-CN", { timeZone: ZONE, year: "numeric", month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
const TIME = new Intl.DateTimeFormat("zh-CN", { timeZone: ZONE, hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });

/** A moment (ISO string, timestamp or Date) as date and time in Asia/Shanghai: "2026/3/1 07:30:00". */
export const dateTime = (moment) => DATE_TIME.format(new Date(moment));

/** A moment's time of day in Asia/Shanghai: "07:30:00". */
export const timeOfDay = (moment = new Date()) => TIME.format(new Date(moment));

const NUMBER = new Intl.NumberFormat("zh-CN");

/** A count with grouping: 40466 → "40,466"; null → "—". */
export const number = (n) => (n == null ? "—" : NUMBER.format(n));

/** A share (0..1) as a percentage with ``digits`` decimals: 0.1234 → "12.3%" (digits 1); null → "—". */
export function percent(share, digits = 0) {
  if (share == null) return "—";
  const f = 10 ** digits;
  return Math.round(share * 100 * f) / f + "%";
}

// The date helpers of web/static/gridgov/format.js under node's own test runner (node --test).
// tests/js/test_format.py runs this file with TZ set to Asia/Shanghai (where toISOString turned
// local midnight of 1 March into 28 February, and 07:30 into yesterday) and to other zones: the
// answers must not depend on the zone the browser runs in.
import assert from "node:assert/strict";
import { mock, test } from "node:test";

import { dateTime, firstOfMonth, isoDate, month, number, percent, timeOfDay, today } from "../../web/static/gridgov/format.js";

const at = (s) => new Date(s);

test("the zone this run claims is the zone it runs in", () => {
  if (process.env.TZ === "Asia/Shanghai") {
    assert.equal(new Date(2026, 2, 1).getTimezoneOffset(), -480);
    // The bug this module removes: local midnight of 1 March, read as UTC, is 28 February.
    assert.equal(new Date(2026, 2, 1).toISOString().slice(0, 10), "2026-02-28");
  }
});

test("before 08:00 in Shanghai, today is still today and the month starts on the 1st", () => {
  const now = at("2026-03-01T07:30:00+08:00");
  assert.equal(today(now), "2026-03-01");
  assert.equal(firstOfMonth(now), "2026-03-01");
  assert.equal(isoDate(at("2026-03-01T00:00:00+08:00")), "2026-03-01");
});

test("late in the evening the date does not run ahead", () => {
  const now = at("2026-03-31T23:59:00+08:00");
  assert.equal(today(now), "2026-03-31");
  assert.equal(firstOfMonth(now), "2026-03-01");
});

test("with the clock itself at 07:30 Shanghai time, the defaults answer for that moment", () => {
  mock.timers.enable({ apis: ["Date"], now: at("2026-03-01T07:30:00+08:00").getTime() });
  try {
    assert.equal(today(), "2026-03-01");
    assert.equal(firstOfMonth(), "2026-03-01");
    assert.equal(firstOfMonth(undefined, 2), "2026-01-01");
    assert.equal(timeOfDay(), "07:30:00");
  } finally {
    mock.timers.reset();
  }
});

test("months back cross the year and end on their last day", () => {
  const newYear = at("2026-01-01T00:10:00+08:00");
  assert.deepEqual(month(newYear, 1), { year: 2025, month: 12, start: "2025-12-01", end: "2025-12-31", label: "12月" });
  assert.deepEqual(month(newYear, 2), { year: 2025, month: 11, start: "2025-11-01", end: "2025-11-30", label: "11月" });
  assert.equal(month(at("2026-03-15T12:00:00+08:00"), 1).end, "2026-02-28");
  assert.equal(month(at("2028-03-01T06:00:00+08:00"), 1).end, "2028-02-29");
  assert.equal(firstOfMonth(at("2026-03-01T07:30:00+08:00"), 2), "2026-01-01");
});

test("a moment is shown as Shanghai wall time", () => {
  assert.equal(dateTime("2026-02-28T23:30:00Z"), "2026/3/1 07:30:00");
  assert.equal(timeOfDay("2026-02-28T23:30:05Z"), "07:30:05");
});

test("numbers are grouped and shares rounded; a missing value is a dash", () => {
  assert.equal(number(40466), "40,466");
  assert.equal(number(0), "0");
  assert.equal(number(null), "—");
  assert.equal(percent(0.1234, 1), "12.3%");
  assert.equal(percent(0.9), "90%");
  assert.equal(percent(0), "0%");
  assert.equal(percent(null), "—");
});

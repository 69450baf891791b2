// Gateway API Duration (GEP-2257): one to four <number><unit> pairs, units h, m, s, ms,
// e.g. "1h", "1m30s", "500ms". Returned in milliseconds; undefined when malformed.

const WHOLE = /^([0-9]{1,5}(h|m|s|ms)){1,4}$/;
const PART = /([0-9]{1,5})(ms|h|m|s)/g;
const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };

export function parseDuration(d: string): number | undefined {
  if (typeof d !== 'string' || !WHOLE.test(d)) return undefined;
  let total = 0;
  for (const m of d.matchAll(PART)) total += Number(m[1]) * UNIT_MS[m[2]!]!;
  return total;
}

/** Small statistics over a list of numbers (empty lists give null, never NaN). */
export interface Spread {
  count: number;
  median: number | null;
  mean: number | null;
  max: number | null;
  min: number | null;
}

export function spread(values: readonly number[]): Spread {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return { count: 0, median: null, mean: null, max: null, min: null };
  const mid = Math.floor(v.length / 2);
  const median = v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
  return {
    count: v.length,
    median: round(median),
    mean: round(v.reduce((a, b) => a + b, 0) / v.length),
    max: round(v[v.length - 1]),
    min: round(v[0]),
  };
}

export function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** `a / b` rounded, or null when b is 0. */
export function ratio(a: number, b: number, digits = 2): number | null {
  return b > 0 ? round(a / b, digits) : null;
}

// The overview's charts: activations per minute, error rate and duration
// percentiles over the last hour, computed in the browser from the
// activation list API's summaries.
import { durationOf, type ActivationView } from "./records.js";

export interface MinuteSeries {
  /** Each minute's start, epoch seconds (what the chart's time axis takes). */
  minutes: number[];
  count: number[];
  errors: number[];
  /** Errors as a share of that minute's activations, in percent; null for an empty minute. */
  errorRate: (number | null)[];
  p50: (number | null)[];
  p99: (number | null)[];
}

const MINUTE = 60_000;

/** The nearest-rank percentile of sorted values (null for none). */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/**
 * Buckets records by the minute they started in, for the `minutes` minutes
 * up to `now`. A record counts as an error when its statusCode is not 0;
 * records still running count as activations without a duration.
 */
export function activityByMinute(records: readonly ActivationView[], now: number, minutes = 60): MinuteSeries {
  const first = Math.floor(now / MINUTE) * MINUTE - (minutes - 1) * MINUTE;
  const buckets = Array.from({ length: minutes }, () => ({ count: 0, errors: 0, durations: [] as number[] }));
  for (const record of records) {
    const index = Math.floor((record.start - first) / MINUTE);
    if (index < 0 || index >= minutes) continue;
    const bucket = buckets[index];
    bucket.count++;
    if (record.statusCode !== undefined && record.statusCode !== 0) bucket.errors++;
    const duration = durationOf(record);
    if (duration !== undefined) bucket.durations.push(duration);
  }
  const series: MinuteSeries = { minutes: [], count: [], errors: [], errorRate: [], p50: [], p99: [] };
  buckets.forEach((bucket, i) => {
    const sorted = bucket.durations.sort((a, b) => a - b);
    series.minutes.push((first + i * MINUTE) / 1000);
    series.count.push(bucket.count);
    series.errors.push(bucket.errors);
    series.errorRate.push(bucket.count ? (100 * bucket.errors) / bucket.count : null);
    series.p50.push(percentile(sorted, 50));
    series.p99.push(percentile(sorted, 99));
  });
  return series;
}

/** The hour's totals the overview prints beside its charts. */
export function hourTotals(records: readonly ActivationView[]) {
  const durations = records.map(durationOf).filter((d): d is number => d !== undefined).sort((a, b) => a - b);
  const errors = records.filter((r) => r.statusCode !== undefined && r.statusCode !== 0).length;
  return {
    activations: records.length,
    errors,
    errorRate: records.length ? (100 * errors) / records.length : 0,
    p50: percentile(durations, 50),
    p99: percentile(durations, 99),
  };
}

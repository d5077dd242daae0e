// How long activation records are kept, and the purge both hosts run on
// their own schedule (the Worker's daily cron, each Node controller's hourly
// task). The period is configuration: ACTIVATION_RETENTION_DAYS, a [vars]
// entry on Cloudflare and an environment variable on Node.
import type { Store } from "../ports/store.js";

export const DEFAULT_ACTIVATION_RETENTION_DAYS = 7;

const DAY_MS = 24 * 60 * 60_000;

/**
 * ACTIVATION_RETENTION_DAYS as both hosts read it: a positive number of days
 * (fractions allowed), the default when unset or blank. Anything else throws,
 * so a typo fails loudly instead of purging at a period nobody chose.
 */
export function activationRetentionMs(days: string | undefined): number {
  const text = days?.trim();
  if (!text) return DEFAULT_ACTIVATION_RETENTION_DAYS * DAY_MS;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(`ACTIVATION_RETENTION_DAYS is not a positive number of days: ${days}`);
  }
  return value * DAY_MS;
}

/** Removes the activations that started more than `retentionMs` before `now`; answers how many. */
export function purgeExpiredActivations(
  store: Pick<Store, "deleteActivationsBefore">,
  retentionMs: number,
  now: number = Date.now(),
): Promise<number> {
  return store.deleteActivationsBefore(now - retentionMs);
}

// The controller's blocking waits. A Worker request owns its timers, so each
// wait has its own (a timer shared between requests could die with another).

/** Waits for `work` up to `ms`; undefined when the wait ran out first. */
export async function waitFor<T>(work: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expiry = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  try {
    return await Promise.race([work, expiry]);
  } finally {
    clearTimeout(timer);
  }
}

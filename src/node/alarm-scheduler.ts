// The alarm scheduler of the Kubernetes host: every controller runs it, and
// the one holding a PostgreSQL advisory lock fires the alarms that come due,
// so each fire happens once however many replicas run. The lock belongs to
// one database session: if its controller dies, the session ends, the lock
// is released, and another controller takes over on its next tick.
import type pg from "pg";
import { checkSession, takeSchedulerLock } from "../store/alarm-rows.js";
import type { BackgroundTask } from "./controller.js";

const TICK_MS = 1_000;

export const alarmScheduler: BackgroundTask = async ({ pool, platform, alarms }) => {
  let session: pg.PoolClient | undefined;
  let leader = false;
  let stopped = false;

  /** Holds (or tries to take) the lock; false when another controller has it. */
  async function lead(): Promise<boolean> {
    session ??= await pool.connect();
    if (leader) {
      await checkSession(session); // the session, and with it the lock, is still there
      return true;
    }
    leader = await takeSchedulerLock(session);
    return leader;
  }

  async function tick(): Promise<void> {
    try {
      if (await lead()) await alarms.fireDue({ store: platform.store, dispatcher: platform.dispatcher, throttle: platform.throttle });
    } catch (err) {
      console.error("alarm scheduler:", (err as Error).message);
      // A broken session may have lost the lock: start over with a new one.
      session?.release(err as Error);
      session = undefined;
      leader = false;
    }
  }

  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<void> = Promise.resolve();
  const schedule = () => {
    timer = setTimeout(() => {
      running = tick().finally(() => {
        if (!stopped) schedule();
      });
    }, TICK_MS);
  };
  schedule();

  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
      // Ending the session releases the lock for another controller.
      session?.release(true);
    },
  };
};

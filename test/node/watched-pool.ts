// A pg pool whose every statement, on the pool or on a client it lends
// (transactions included), is first shown to `before`, which may delay it:
// for tests that count round trips or hold a statement to force a race.
import type pg from "pg";

type Call = (...args: unknown[]) => unknown;

export function watchedPool(pool: pg.Pool, before: (text: string) => void | Promise<void>): pg.Pool {
  const watched = <T extends object>(target: T): T =>
    new Proxy(target, {
      get(object, property) {
        const value = Reflect.get(object, property, object) as unknown;
        if (property === "query") {
          return async (text: unknown, params?: unknown[]) => {
            if (typeof text === "string") await before(text);
            return (value as Call).call(object, text, params);
          };
        }
        if (property === "connect") return async () => watched((await (value as Call).call(object)) as object);
        return typeof value === "function" ? value.bind(object) : value;
      },
    });
  return watched(pool);
}

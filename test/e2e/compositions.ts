// Compositions from openwhisk-composer (the npm package, as its users run
// it): built with composer's combinators, deployed with its client's
// `compositions.deploy` as a conductor action, invoked with the openwhisk
// client. Run against every host (test/e2e/cloudflare.test.ts,
// test/node/start-node.test.ts): composer's conductor evals each function
// combinator, which the Node host grants and the Cloudflare host precompiles.
import composer from "openwhisk-composer";
import composerClient from "openwhisk-composer/client.js";
import { describe, expect, it } from "vitest";
import { GUEST_KEY, type Target } from "./scenarios.js";

/** The let variable the function combinators below share: it exists in the conductor, not here. */
declare let rounds: number;

const unique = (prefix: string) => `${prefix}-${Math.random().toString(36).slice(2, 8)}`;

/** The value a rejected blocking invoke carries: the activation record of an application error. */
const rejection = (promise: Promise<unknown>) =>
  promise.then(
    (value) => ({ resolved: value }) as { resolved?: unknown; error?: any },
    (err: { error?: unknown }) => ({ error: err.error }),
  );

export function compositionScenarios(target: () => Target) {
  describe("compositions from openwhisk-composer", () => {
    it("deploys and runs let, while, if, try and function combinators around an action", async () => {
      // `true`: basic auth with this key, whatever a ~/.wskprops says.
      const wsk = composerClient({ apihost: target().apihost, api_key: GUEST_KEY }, true);
      const triple = unique("triple");
      const flow = unique("flow");
      await wsk.actions.create({ name: triple, action: "function main({ n }) { return { n: n * 3 } }" });
      // Function combinators capture their own source; `rounds` is a let variable they share.
      const composition = composer.let(
        { rounds: 0 },
        composer.while(
          (p: { n: number }) => p.n < 20,
          composer.seq(triple, (p: { n: number }) => ({ n: p.n, rounds: ++rounds })),
        ),
        composer.if(
          (p: { n: number }) => p.n % 2 === 0,
          (p: object) => ({ ...p, parity: "even" }),
          (p: object) => ({ ...p, parity: "odd" }),
        ),
        composer.try(
          (p: { n: number }) => (p.n > 50 ? { error: `too big: ${p.n}` } : p),
          (e: { error: string }) => ({ caught: e.error }),
        ),
      );
      const deployed = await wsk.compositions.deploy({ name: flow, ...composition.compile() }, true);
      expect(deployed).toHaveLength(1);

      const action = await wsk.actions.get({ name: flow });
      expect(action.annotations).toEqual(expect.arrayContaining([expect.objectContaining({ key: "conductor" })]));

      // 1 → 3 → 9 → 27: three rounds, odd, small enough.
      expect(await wsk.actions.invoke({ name: flow, blocking: true, result: true, params: { n: 1 } })).toEqual({
        n: 27,
        rounds: 3,
        parity: "odd",
      });
      // 2 → 6 → 18 → 54: too big, and the try's handler answers.
      expect(await wsk.actions.invoke({ name: flow, blocking: true, result: true, params: { n: 2 } })).toEqual({
        caught: "too big: 54",
      });
    });

    it("retries a failing action as many times as retry says, then answers its error", async () => {
      const wsk = composerClient({ apihost: target().apihost, api_key: GUEST_KEY }, true);
      const fail = unique("fail");
      const retry = unique("retry");
      await wsk.actions.create({ name: fail, action: "function main() { return { error: 'always' } }" });
      await wsk.compositions.deploy({ name: retry, ...composer.retry(2, fail).compile() }, true);

      const { error: record } = await rejection(wsk.actions.invoke({ name: retry, blocking: true }));
      expect(record?.response).toMatchObject({ success: false, result: { error: "always" } });
      // The composition's record lists every activation it caused: the action ran 1 + 2 times.
      // Records are written behind the answer (compatibility.md): one still on its way to the store is asked for again, for 2 s at most.
      const recorded = async (id: string) => {
        for (let attempt = 0; ; attempt++) {
          try {
            return await wsk.activations.get({ name: id });
          } catch (err) {
            if (attempt >= 40 || (err as { statusCode?: number }).statusCode !== 404) throw err;
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
        }
      };
      const caused = await Promise.all((record.logs as string[]).map(recorded));
      expect(caused.filter((a) => a.name === fail)).toHaveLength(3);
      expect(caused.filter((a) => a.name === retry).length).toBeGreaterThan(3);
    });
  });
}

// Which invoker an action goes to: rendezvous hashing keeps each action on
// one invoker, and a change of invokers moves only the actions it must.
import { describe, expect, it } from "vitest";
import { rendezvousOrder } from "../../src/node/invoker-client.js";

const invokers = ["http://invoker-0.invoker:8080", "http://invoker-1.invoker:8080", "http://invoker-2.invoker:8080"];
const actions = Array.from({ length: 300 }, (_, i) => `guest/action-${i}`);
const first = (urls: string[], action: string) => rendezvousOrder(urls, action)[0];

describe("rendezvousOrder", () => {
  it("puts every invoker in an action's order, the same order every time", () => {
    for (const action of actions.slice(0, 10)) {
      const order = rendezvousOrder(invokers, action);
      expect([...order].sort()).toEqual([...invokers].sort());
      expect(rendezvousOrder([...invokers].reverse(), action)).toEqual(order);
    }
  });

  it("spreads actions over the invokers", () => {
    const counts = new Map<string, number>();
    for (const action of actions) counts.set(first(invokers, action), (counts.get(first(invokers, action)) ?? 0) + 1);
    for (const url of invokers) expect(counts.get(url)).toBeGreaterThan(60);
  });

  it("moves only the actions of an invoker that goes, each to its next choice", () => {
    const gone = invokers[1];
    const remaining = invokers.filter((url) => url !== gone);
    for (const action of actions) {
      const before = rendezvousOrder(invokers, action);
      const after = first(remaining, action);
      expect(after).toBe(before[0] === gone ? before[1] : before[0]);
    }
  });
});

// Rendezvous (highest-random-weight) hashing, shared by the two placements
// of the Node host: an action's invoker among the live ones, and an isolate's
// workerd child within an invoker's pool. Each candidate scores hash(name,
// key); the best score wins, so a candidate that leaves moves only the keys
// it was first for, each to its next choice.

/** 53-bit FNV-1a-like string hash (cyrb53): stable across processes, cheap. */
export function hash53(text: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** `names` best first for `key`; ties (practically never) go by name, so every process agrees. */
export function rendezvousRank(names: readonly string[], key: string): string[] {
  return names
    .map((name) => ({ name, score: hash53(`${name}|${key}`) }))
    .sort((a, b) => b.score - a.score || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((entry) => entry.name);
}

// The packed form of a Python memory snapshot (src/runtime/isolate/python-snapshot.js):
// what a new isolate pours into its wasm memory must be the memory the snapshot was
// made from, byte for byte, and a damaged snapshot must fail rather than pour.
import { describe, expect, it } from "vitest";

interface Front {
  header: Uint8Array;
  memoryBytes: number;
  runs: [number, number][];
  rest: Uint8Array;
}
interface Reader {
  read(): Promise<{ done: boolean; value?: Uint8Array }>;
}
const codec = (await import(new URL("../../src/runtime/isolate/python-snapshot.js", import.meta.url).href)) as {
  packSnapshot(raw: Uint8Array): Uint8Array;
  readSnapshotFront(reader: Reader): Promise<Front>;
  pourSnapshot(heap: Uint8Array, front: Front, reader: Reader): Promise<void>;
  bytesReader(bytes: Uint8Array): Reader;
};

const PAGE = 4096;
const MEMORY = 16 * 65_536;

/** A raw Pyodide snapshot: a header whose second word is its length, then the memory. */
function rawSnapshot(memory: Uint8Array, headerLength = 48): Uint8Array {
  const raw = new Uint8Array(headerLength + memory.length);
  const view = new DataView(raw.buffer);
  view.setUint32(0, 0x706e7300, true);
  view.setUint32(4, headerLength, true);
  for (let i = 8; i < headerLength; i++) raw[i] = i;
  raw.set(memory, headerLength);
  return raw;
}

/** Memory with data in a few places: the first page, a run across pages, a lone byte, the very end. */
function sampleMemory(): Uint8Array {
  const memory = new Uint8Array(MEMORY);
  memory[0] = 1;
  for (let i = 5 * PAGE + 100; i < 9 * PAGE + 7; i++) memory[i] = (i * 7) & 0xff || 1;
  memory[40 * PAGE + 4095] = 9;
  memory[MEMORY - 1] = 3;
  return memory;
}

/** A reader giving `bytes` in chunks of `size`, as a stream across isolates does. */
function chunked(bytes: Uint8Array, size: number): Reader {
  let at = 0;
  return {
    read: async () => {
      if (at >= bytes.length) return { done: true };
      const value = bytes.subarray(at, at + size);
      at += size;
      return { done: false, value };
    },
  };
}

async function restore(packed: Uint8Array, reader: Reader = codec.bytesReader(packed)) {
  const front = await codec.readSnapshotFront(reader);
  const heap = new Uint8Array(front.memoryBytes);
  await codec.pourSnapshot(heap, front, reader);
  return { front, heap };
}

describe("packed Python snapshots", () => {
  it("restores the memory and header byte for byte, carrying only the non-zero pages", async () => {
    const memory = sampleMemory();
    const raw = rawSnapshot(memory);
    const packed = codec.packSnapshot(raw);
    expect(packed.length).toBeLessThan(20 * PAGE);
    const { front, heap } = await restore(packed);
    expect(front.memoryBytes).toBe(MEMORY);
    expect(front.header).toEqual(raw.subarray(0, 48));
    expect(front.runs).toEqual([
      [0, PAGE],
      [5 * PAGE, 5 * PAGE],
      [40 * PAGE, PAGE],
      [MEMORY - PAGE, PAGE],
    ]);
    expect(Buffer.from(heap).equals(Buffer.from(memory))).toBe(true);
  });

  it("restores the same from a stream of small chunks that split the header and the runs", async () => {
    const memory = sampleMemory();
    const packed = codec.packSnapshot(rawSnapshot(memory));
    for (const size of [1, 7, 4096, 65_537]) {
      const { heap } = await restore(packed, chunked(packed, size));
      expect(Buffer.from(heap).equals(Buffer.from(memory))).toBe(true);
    }
  });

  it("packs an all-zero memory as no runs at all", async () => {
    const packed = codec.packSnapshot(rawSnapshot(new Uint8Array(MEMORY)));
    const { front, heap } = await restore(packed);
    expect(front.runs).toEqual([]);
    expect(heap.every((byte) => byte === 0)).toBe(true);
  });

  it("fails on a snapshot cut short, inside its header or inside its runs", async () => {
    const packed = codec.packSnapshot(rawSnapshot(sampleMemory()));
    await expect(restore(packed.subarray(0, 30))).rejects.toThrow("the Python snapshot is short: it ended inside its header");
    await expect(restore(packed.subarray(0, packed.length - 1))).rejects.toThrow("the Python snapshot is short: it ended inside its runs");
  });

  it("fails on bytes past the last run, and on anything that is not a packed snapshot", async () => {
    const packed = codec.packSnapshot(rawSnapshot(sampleMemory()));
    const longer = new Uint8Array(packed.length + 1);
    longer.set(packed);
    await expect(restore(longer)).rejects.toThrow("the Python snapshot is longer than its runs");
    await expect(restore(rawSnapshot(sampleMemory()))).rejects.toThrow("not a packed Python snapshot");
  });

  it("refuses a run table that overlaps or reaches past the memory", async () => {
    const packed = codec.packSnapshot(rawSnapshot(sampleMemory()));
    const outlying = packed.slice();
    // The last run's offset (the table starts at byte 20), moved past the memory's end.
    new DataView(outlying.buffer).setUint32(20 + 3 * 8, MEMORY, true);
    await expect(restore(outlying)).rejects.toThrow("overlapping or outlying runs");
    const overlapping = packed.slice();
    new DataView(overlapping.buffer).setUint32(20 + 1 * 8, 0, true);
    await expect(restore(overlapping)).rejects.toThrow("overlapping or outlying runs");
  });

  it("pours into a memory of the snapshot's size only", async () => {
    const packed = codec.packSnapshot(rawSnapshot(sampleMemory()));
    const reader = codec.bytesReader(packed);
    const front = await codec.readSnapshotFront(reader);
    await expect(codec.pourSnapshot(new Uint8Array(MEMORY * 2), front, reader)).rejects.toThrow(`wasm memory ${MEMORY * 2} != snapshot ${MEMORY}`);
  });
});

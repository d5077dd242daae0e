// The form in which a Python isolate receives its memory snapshot: Pyodide's
// snapshot (its header, then the whole wasm memory, 31 MB of which half is
// zeros) packed as the runs of non-zero pages only, so that a new isolate
// copies 15 MB with a few dozen heap.set calls and no scan. Made by the
// Python runner (python-runner.js `makeSnapshot`), read by it on restore;
// imported by both as a module of the isolate, and by scripts and tests.
//
// Layout (little-endian u32s):
//   "EWPS" · version 1 · header length H · memory length M · run count N
//   · N × (memory offset, length) · Pyodide's header (H bytes) · the runs' bytes, in order

const MAGIC = 0x53505745; // "EWPS"
const VERSION = 1;
const FIXED = 20;
/** Runs are whole pages: a zero page inside is not worth a run boundary. */
const PAGE = 4096;

/** Packs Pyodide's raw snapshot (`makeMemorySnapshot()`'s bytes) as runs of non-zero pages. */
export function packSnapshot(raw) {
  const headerLength = new DataView(raw.buffer, raw.byteOffset, raw.byteLength).getUint32(4, true);
  if (headerLength < 8 || headerLength > raw.length) throw new Error("not a Pyodide snapshot");
  const memory = raw.subarray(headerLength);
  const words =
    memory.byteOffset % 4 === 0
      ? new Int32Array(memory.buffer, memory.byteOffset, memory.length >> 2)
      : new Int32Array(memory.slice(0, memory.length & ~3).buffer);
  const zeroPage = (start) => {
    const end = Math.min(start + PAGE, memory.length);
    for (let i = start >> 2; i < end >> 2; i++) if (words[i] !== 0) return false;
    for (let i = end & ~3; i < end; i++) if (memory[i] !== 0) return false;
    return true;
  };
  const runs = [];
  for (let page = 0; page < memory.length; page += PAGE) {
    if (zeroPage(page)) continue;
    const end = Math.min(page + PAGE, memory.length);
    const last = runs[runs.length - 1];
    if (last && last[0] + last[1] === page) last[1] = end - last[0];
    else runs.push([page, end - page]);
  }
  const dataLength = runs.reduce((sum, [, length]) => sum + length, 0);
  const tableEnd = FIXED + runs.length * 8;
  const packed = new Uint8Array(tableEnd + headerLength + dataLength);
  const view = new DataView(packed.buffer);
  [MAGIC, VERSION, headerLength, memory.length, runs.length].forEach((value, i) => view.setUint32(i * 4, value, true));
  runs.forEach(([offset, length], i) => {
    view.setUint32(FIXED + i * 8, offset, true);
    view.setUint32(FIXED + i * 8 + 4, length, true);
  });
  packed.set(raw.subarray(0, headerLength), tableEnd);
  let at = tableEnd + headerLength;
  for (const [offset, length] of runs) {
    packed.set(memory.subarray(offset, offset + length), at);
    at += length;
  }
  return packed;
}

/** Reads from a stream reader until `buffer` holds `length` bytes. */
async function fill(reader, buffer, length) {
  while (buffer.length < length) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the Python snapshot is short: it ended inside its header");
    if (buffer.length === 0) {
      // A whole snapshot in one chunk is not copied.
      buffer = value;
      continue;
    }
    const next = new Uint8Array(buffer.length + value.length);
    next.set(buffer);
    next.set(value, buffer.length);
    buffer = next;
  }
  return buffer;
}

/**
 * The packed snapshot's front, read off a stream reader: Pyodide's header,
 * the memory's size and runs, and what was read past them (`rest`).
 * Everything is checked before a byte is trusted: a snapshot from a
 * truncated or foreign file fails here rather than pouring garbage.
 */
export async function readSnapshotFront(reader) {
  let buffer = await fill(reader, new Uint8Array(0), FIXED);
  const fixed = new DataView(buffer.buffer, buffer.byteOffset, FIXED);
  const [magic, version, headerLength, memoryBytes, count] = [0, 1, 2, 3, 4].map((i) => fixed.getUint32(i * 4, true));
  if (magic !== MAGIC || version !== VERSION) throw new Error("not a packed Python snapshot");
  if (memoryBytes === 0 || memoryBytes % 65_536 !== 0 || count > memoryBytes / PAGE) throw new Error("a packed Python snapshot with impossible sizes");
  const tableEnd = FIXED + count * 8;
  buffer = await fill(reader, buffer, tableEnd + headerLength);
  const table = new DataView(buffer.buffer, buffer.byteOffset, tableEnd);
  const runs = [];
  let end = 0;
  for (let i = 0; i < count; i++) {
    const offset = table.getUint32(FIXED + i * 8, true);
    const length = table.getUint32(FIXED + i * 8 + 4, true);
    if (offset < end || length === 0 || offset + length > memoryBytes) throw new Error("a packed Python snapshot with overlapping or outlying runs");
    runs.push([offset, length]);
    end = offset + length;
  }
  return {
    header: buffer.slice(tableEnd, tableEnd + headerLength),
    memoryBytes,
    runs,
    rest: buffer.subarray(tableEnd + headerLength),
  };
}

/**
 * Writes the runs into `heap`, a fresh wasm memory of `front.memoryBytes`
 * (zero already, so the gaps need no writes), from `front.rest` and then the
 * reader, chunk by chunk as they come: no copy of the whole exists here.
 */
export async function pourSnapshot(heap, front, reader) {
  if (heap.length !== front.memoryBytes) throw new Error(`wasm memory ${heap.length} != snapshot ${front.memoryBytes}`);
  let run = 0;
  let within = 0;
  const take = (chunk) => {
    for (let i = 0; i < chunk.length; ) {
      if (run === front.runs.length) throw new Error("the Python snapshot is longer than its runs");
      const [offset, length] = front.runs[run];
      const n = Math.min(length - within, chunk.length - i);
      heap.set(chunk.subarray(i, i + n), offset + within);
      i += n;
      within += n;
      if (within === length) {
        run++;
        within = 0;
      }
    }
  };
  take(front.rest);
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    take(value);
  }
  if (run !== front.runs.length) throw new Error("the Python snapshot is short: it ended inside its runs");
}

/** A reader over bytes already in hand, for callers that hold the whole snapshot. */
export function bytesReader(bytes) {
  let given = false;
  return {
    read: async () => {
      if (given) return { done: true, value: undefined };
      given = true;
      return { done: false, value: bytes };
    },
  };
}

// Zip actions (`binary: true`): the archive's files become isolate modules.
// Isolates resolve `require`/`import` only by exact module name, so the
// specifiers of reachable code are rewritten at build time to the files
// Node's resolution would pick (extensions, index.js, package.json main,
// node_modules up the tree). Only files reachable from the entry are loaded.
import { unzipSync } from "fflate";
import { base64ToBytes } from "../core/base64.js";
import type { ModuleSource } from "./modules.js";

/** Where the archive's files live among the isolate's modules. */
const ROOT = "action";

export class ArchiveError extends Error {}

export interface ArchiveModules {
  /** Module name of the entry file. */
  entry: string;
  /** Whether the entry is an ES module. */
  entryIsEsm: boolean;
  /** The function to call, from `exec.main` (`fn` or `module.fn`). */
  mainName: string;
  modules: Record<string, ModuleSource>;
  /** Preinstalled packages the archive requires without bundling them; they load as root modules. */
  preinstalled: string[];
}

const BUILTINS = new Set([
  "assert", "async_hooks", "buffer", "child_process", "cluster", "console", "constants", "crypto", "dgram",
  "diagnostics_channel", "dns", "domain", "events", "fs", "http", "http2", "https", "inspector", "module", "net",
  "os", "path", "perf_hooks", "process", "punycode", "querystring", "readline", "repl", "stream", "string_decoder",
  "sys", "timers", "tls", "trace_events", "tty", "url", "util", "v8", "vm", "wasi", "worker_threads", "zlib",
]);

const SPECIFIER = /(\brequire\s*\(\s*|\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\bexport\s*\*\s*from\s*)(["'])([^"'\n]+)\2/g;

function dirname(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "" : path.slice(0, slash);
}

function join(...parts: string[]): string {
  const out: string[] = [];
  for (const segment of parts.join("/").split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") out.pop();
    else out.push(segment);
  }
  return out.join("/");
}

function relative(fromDir: string, to: string): string {
  const from = fromDir ? fromDir.split("/") : [];
  const target = to.split("/");
  let common = 0;
  while (common < from.length && common < target.length - 1 && from[common] === target[common]) common++;
  const up = from.length - common;
  const rest = target.slice(common).join("/");
  return up === 0 ? `./${rest}` : `${"../".repeat(up)}${rest}`;
}

class Archive {
  private readonly text = new TextDecoder();

  constructor(private readonly files: Map<string, Uint8Array>) {}

  paths(): string[] {
    return [...this.files.keys()];
  }

  bytes(path: string): ArrayBuffer {
    const data = this.files.get(path)!;
    return data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
  }

  has(path: string): boolean {
    return this.files.has(path);
  }

  read(path: string): string {
    return this.text.decode(this.files.get(path)!);
  }

  packageJson(dir: string): Record<string, unknown> | undefined {
    const path = join(dir, "package.json");
    if (!this.has(path)) return undefined;
    try {
      return JSON.parse(this.read(path)) as Record<string, unknown>;
    } catch {
      return undefined;
    }
  }

  /** A file or directory path as Node resolves it: exact, with an extension, or a directory's main. */
  resolvePath(path: string): string | undefined {
    for (const candidate of [path, `${path}.js`, `${path}.json`, `${path}.cjs`, `${path}.mjs`]) {
      if (this.has(candidate)) return candidate;
    }
    const pkg = this.packageJson(path);
    const main = typeof pkg?.main === "string" ? pkg.main : undefined;
    if (main) {
      const resolved = this.resolvePath(join(path, main));
      if (resolved) return resolved;
    }
    for (const index of ["index.js", "index.json", "index.cjs", "index.mjs"]) {
      if (this.has(join(path, index))) return join(path, index);
    }
    return undefined;
  }

  resolve(specifier: string, fromFile: string): string | undefined {
    if (specifier.startsWith("node:") || BUILTINS.has(specifier.split("/")[0])) return undefined;
    const fromDir = dirname(fromFile);
    if (specifier.startsWith(".") || specifier.startsWith("/")) {
      return this.resolvePath(specifier.startsWith("/") ? join(specifier) : join(fromDir, specifier));
    }
    for (let dir = fromDir; ; dir = dirname(dir)) {
      const found = this.resolvePath(join(dir, "node_modules", specifier));
      if (found) return found;
      if (dir === "") return undefined;
    }
  }

  /** The nearest package.json's "type" decides how a .js file loads, as in Node. */
  isEsm(path: string, source: string): boolean {
    if (path.endsWith(".mjs")) return true;
    if (path.endsWith(".cjs")) return false;
    for (let dir = dirname(path); ; dir = dirname(dir)) {
      const pkg = this.packageJson(dir);
      if (pkg) return pkg.type === "module";
      if (dir === "") return /^\s*(import|export)\s/m.test(source) && !/\brequire\s*\(/.test(source);
    }
  }
}

const USE_STRICT = /^(\s*(?:(?:\/\/[^\n]*\n|\/\*[\s\S]*?\*\/)\s*)*(["'])use strict\2;?)/;

/**
 * Isolates give CommonJS modules a __dirname outside the /bundle directory
 * where node:fs finds the archive's files; set the one Node would give, on
 * the first line (after any "use strict") so line numbers stay as written.
 */
function withBundlePaths(source: string, path: string): string {
  const file = `/bundle/${ROOT}/${path}`;
  const preamble = `var __filename = ${JSON.stringify(file)}, __dirname = ${JSON.stringify(dirname(file))};`;
  const directive = USE_STRICT.exec(source);
  return directive ? `${directive[1]} ${preamble}${source.slice(directive[1].length)}` : `${preamble}${source}`;
}

/** The same for ES modules, whose import.meta.url in an isolate is not a file URL. */
function withBundleMeta(source: string, path: string): string {
  const file = `/bundle/${ROOT}/${path}`;
  const meta: Record<string, string> = { url: `file://${file}`, filename: file, dirname: dirname(file) };
  return source.replace(/\bimport\.meta\.(url|filename|dirname)\b/g, (_match, field: string) => JSON.stringify(meta[field]));
}

/**
 * What an archive may expand to. An invoker inflates an archive when it
 * builds an isolate, in memory shared with other activations, so a zip bomb
 * (1 MiB expanding to 1 GiB) must be refused before anything is inflated: the
 * sizes come from the zip's central directory, and the inflater writes into
 * buffers of exactly the declared sizes, so a directory that lies about them
 * cannot make it write more.
 */
export const ARCHIVE_BOUNDS = {
  /** Total of the files' uncompressed sizes. */
  uncompressedBytes: 64 * 1024 * 1024,
  /** Total uncompressed over total compressed size. */
  ratio: 100,
  files: 20_000,
} as const;

const isZip = (bytes: Uint8Array) => bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;

/** Throws an ArchiveError when a zip's central directory declares more than ARCHIVE_BOUNDS allow. */
function assertBounds(bytes: Uint8Array): void {
  let files = 0;
  let compressed = 0;
  let uncompressed = 0;
  try {
    // A filter that takes nothing reads the directory and inflates nothing.
    unzipSync(bytes, {
      filter: (file) => {
        files++;
        compressed += file.size;
        uncompressed += file.originalSize;
        return false;
      },
    });
  } catch {
    throw new ArchiveError("There was an error uncompressing the action Zip archive.");
  }
  if (files > ARCHIVE_BOUNDS.files) {
    throw new ArchiveError(`The action archive holds ${files} files, more than the ${ARCHIVE_BOUNDS.files} allowed.`);
  }
  if (uncompressed > ARCHIVE_BOUNDS.uncompressedBytes) {
    throw new ArchiveError(
      `The action archive expands to ${uncompressed} bytes, more than the ${ARCHIVE_BOUNDS.uncompressedBytes} bytes allowed.`,
    );
  }
  const ratio = uncompressed / Math.max(1, compressed);
  if (ratio > ARCHIVE_BOUNDS.ratio) {
    throw new ArchiveError(
      `The action archive's compression ratio ${Math.round(ratio)}:1 exceeds the ${ARCHIVE_BOUNDS.ratio}:1 allowed.`,
    );
  }
}

/**
 * The create-time check of an action's archive: a zip whose directory
 * declares more than the bounds allow is refused (its message says why).
 * Anything that is not a zip is left to the run, which answers it as
 * OpenWhisk's runtime does.
 */
export function archiveBoundsViolation(base64: string): string | undefined {
  const bytes = base64ToBytes(base64);
  if (!isZip(bytes)) return undefined;
  try {
    assertBounds(bytes);
    return undefined;
  } catch (err) {
    if (err instanceof ArchiveError) return err.message;
    throw err;
  }
}

/** Throws the ArchiveError a run answers for what is not a zip, or a zip past ARCHIVE_BOUNDS. */
function assertZip(bytes: Uint8Array): void {
  if (!isZip(bytes)) {
    throw new ArchiveError("There was an error uncompressing the action archive. The file type is unsupported");
  }
  assertBounds(bytes);
}

/** A Python action's archive is unpacked by the isolate itself; the invoker checks it as it would a Node one's. */
export function assertPythonArchive(base64: string): void {
  assertZip(base64ToBytes(base64));
}

function unpack(base64: string): Map<string, Uint8Array> {
  const bytes = base64ToBytes(base64);
  assertZip(bytes);
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes);
  } catch {
    throw new ArchiveError("There was an error uncompressing the action Zip archive.");
  }
  const files = new Map<string, Uint8Array>();
  for (const [name, data] of Object.entries(entries)) {
    if (name.endsWith("/") || name.startsWith("__MACOSX/")) continue;
    files.set(join(name), data);
  }
  return files;
}

/** `exec.main` of a zip action: `fn`, or `module.fn` naming the file to load. */
function splitMain(main: string): [string | undefined, string] {
  const dot = main.indexOf(".");
  return dot < 0 ? [undefined, main] : [main.slice(0, dot), main.slice(dot + 1)];
}

/** `preinstalled` names packages the runtime provides when the archive has no copy of its own. */
export function archiveModules(base64: string, main: string, preinstalled: readonly string[] = []): ArchiveModules {
  const archive = new Archive(unpack(base64));
  const [moduleName, mainName] = splitMain(main);
  let entry: string | undefined;
  if (moduleName) entry = archive.resolvePath(join(moduleName));
  else {
    if (!archive.has("package.json") && !archive.has("index.js")) {
      throw new ArchiveError("Zipped actions must contain either package.json or index.js at the root.");
    }
    entry = archive.resolvePath("");
  }
  if (!entry) throw new ArchiveError(`Cannot find module '${moduleName ?? "package.json main"}' in the action archive.`);

  const modules: Record<string, ModuleSource> = {};
  const pending = [entry];
  const seen = new Set(pending);
  const usedPreinstalled = new Set<string>();
  while (pending.length) {
    const path = pending.pop()!;
    const name = `${ROOT}/${path}`;
    if (path.endsWith(".json")) {
      try {
        modules[name] = { json: JSON.parse(archive.read(path)) };
      } catch {
        modules[name] = { text: archive.read(path) };
      }
      continue;
    }
    const source = archive.read(path).replace(SPECIFIER, (match, lead: string, quote: string, specifier: string) => {
      const target = archive.resolve(specifier, path);
      if (!target && preinstalled.includes(specifier)) {
        usedPreinstalled.add(specifier);
        // Module names are `action/<path>`; the package is a module at the root.
        return `${lead}${quote}${"../".repeat(path.split("/").length)}${specifier}${quote}`;
      }
      if (!target) return match;
      if (!seen.has(target)) {
        seen.add(target);
        pending.push(target);
      }
      return `${lead}${quote}${relative(dirname(path), target)}${quote}`;
    });
    modules[name] = archive.isEsm(path, source) ? { js: withBundleMeta(source, path) } : { cjs: withBundlePaths(source, path) };
  }
  // The archive's own files (and packages' package.json) stay readable with node:fs, under /bundle.
  for (const path of archive.paths()) {
    if (seen.has(path) || (path.includes("node_modules/") && !path.endsWith("/package.json"))) continue;
    modules[`${ROOT}/${path}`] = { data: archive.bytes(path) };
  }
  return {
    entry: `${ROOT}/${entry}`,
    entryIsEsm: "js" in modules[`${ROOT}/${entry}`],
    mainName,
    modules,
    preinstalled: [...usedPreinstalled],
  };
}

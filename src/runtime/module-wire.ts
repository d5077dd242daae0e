// An isolate's module set as JSON, for the hops that carry it over HTTP
// (an invoker to a workerd process it does not share memory with): binary
// data modules travel as base64, every other kind as it is.
import { base64ToBytes, bytesToBase64 } from "../core/base64.js";
import type { ActionModules, ModuleSource } from "./modules.js";

export type WireModule = Exclude<ModuleSource, { data: ArrayBuffer }> | { base64: string };
export interface WireModules {
  mainModule: string;
  modules: Record<string, WireModule>;
  python?: true;
}

export function encodeModules(set: ActionModules): WireModules {
  const modules = Object.fromEntries(
    Object.entries(set.modules).map(([name, source]) => [
      name,
      "data" in source ? { base64: bytesToBase64(new Uint8Array(source.data)) } : source,
    ]),
  );
  return { mainModule: set.mainModule, modules, ...(set.python ? { python: true as const } : {}) };
}

export function decodeModules(wire: WireModules): ActionModules {
  const modules = Object.fromEntries(
    Object.entries(wire.modules).map(([name, source]): [string, ModuleSource] => [
      name,
      "base64" in source ? { data: base64ToBytes(source.base64).buffer as ArrayBuffer } : source,
    ]),
  );
  return { mainModule: wire.mainModule, modules, ...(wire.python ? { python: true as const } : {}) };
}

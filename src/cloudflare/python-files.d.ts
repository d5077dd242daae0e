// What scripts/build-python.mjs leaves in node_modules/.cache/edgewhisk-python/,
// as wrangler's [[rules]] import it (wrangler.toml).
declare module "*/edgewhisk-python/pyodide.asm.wasm" {
  const module: WebAssembly.Module;
  export default module;
}
declare module "*/edgewhisk-python/python_stdlib.zip" {
  const data: ArrayBuffer;
  export default data;
}
declare module "*/edgewhisk-python/pyodide.mjs" {
  const source: string;
  export default source;
}
declare module "*/edgewhisk-python/pyodide.asm.mjs" {
  const source: string;
  export default source;
}
// Declared too so that the tree typechecks before the build has run (a
// fresh clone with scripts skipped); once the file exists its own type is used.
declare module "*/edgewhisk-python/pyodide-lock.json" {
  const lock: { info: { python: string } & Record<string, unknown>; packages: Record<string, unknown> };
  export default lock;
}

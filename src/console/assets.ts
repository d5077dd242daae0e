// The console's and Swagger UI's files as the controller serves them: built
// into dist/assets by scripts/build-console.mjs, read by each host its own
// way (Workers Static Assets, the disk) behind one small contract.

/**
 * Answers a built file by its path under dist/assets (`console/console.js`):
 * 200 with its body and an ETag, 304 when `ifNoneMatch` names that ETag,
 * 404 when there is no such file.
 */
export type AssetFetcher = (path: string, ifNoneMatch: string | undefined) => Promise<Response>;

/** What may be asked for: one file name under one of the two folders, never a dot file or `..`. */
export function isAssetPath(path: string): boolean {
  return /^(console|docs)\/[A-Za-z0-9_-][A-Za-z0-9._-]*$/.test(path);
}

const MEDIA_TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  txt: "text/plain; charset=utf-8",
};

export function mediaTypeOf(path: string): string {
  return MEDIA_TYPES[path.split(".").pop() ?? ""] ?? "application/octet-stream";
}

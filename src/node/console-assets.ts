// The console's built files on the Node host: read from dist/assets (built
// by npm ci's prepare script, or by the image's build step), with the file's
// size and modification time as its ETag.
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { AssetFetcher } from "../console/assets.js";

const BUILT = fileURLToPath(new URL("../../dist/assets/", import.meta.url));

/** `path` was checked by the route (isAssetPath): one name in one folder. */
export function diskAssets(root = BUILT): AssetFetcher {
  return async (path, ifNoneMatch) => {
    const file = join(root, path);
    let size: number;
    let modified: number;
    try {
      ({ size, mtimeMs: modified } = await stat(file));
    } catch {
      return new Response(null, { status: 404 });
    }
    const etag = `"${size.toString(36)}-${Math.floor(modified).toString(36)}"`;
    if (ifNoneMatch === etag) return new Response(null, { status: 304, headers: { ETag: etag } });
    return new Response(await readFile(file), { headers: { ETag: etag } });
  };
}

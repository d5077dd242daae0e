// The console's built files on Cloudflare: Workers Static Assets (wrangler.toml
// [assets], run_worker_first), read through the ASSETS binding so that the
// Worker's own route gives them their security headers. Kept out of the
// Worker's script: every isolate, invoker objects included, would parse them.
import type { AssetFetcher } from "../console/assets.js";

export function workerAssets(binding: Fetcher | undefined): AssetFetcher | undefined {
  if (!binding) return undefined;
  return (path, ifNoneMatch) =>
    binding.fetch(new Request(`https://assets.invalid/${path}`, { headers: ifNoneMatch ? { "If-None-Match": ifNoneMatch } : {} }));
}

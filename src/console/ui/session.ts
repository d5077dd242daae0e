// The signed-in key: in sessionStorage only (gone with the tab), never in
// localStorage, a cookie or a URL.
const KEY = "edgewhisk.console.key";

/** OpenWhisk keys are `uuid:key`; whether one is valid is the server's to say. */
export const KEY_FORMAT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}:[^:\s]+$/i;

export function storedKey(): string | undefined {
  return sessionStorage.getItem(KEY) ?? undefined;
}

export function storeKey(key: string): void {
  sessionStorage.setItem(KEY, key);
}

export function forgetKey(): void {
  sessionStorage.removeItem(KEY);
}

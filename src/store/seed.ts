// Subjects a host creates at start-up from configuration (GUEST_AUTH and
// the like): idempotent, and the key is stored only as its hash.
import { hashAuthKey, parseAuthKey } from "../core/auth.js";
import type { Store } from "../ports.js";

export async function seedSubject(store: Store, authKey: string, namespace: string): Promise<void> {
  const credentials = parseAuthKey(authKey.trim());
  if (!credentials) throw new Error(`the key for namespace ${namespace} must have the form uuid:key`);
  await store.putSubject({
    uuid: credentials.uuid,
    keyHash: await hashAuthKey(credentials),
    namespace,
    subject: namespace,
  });
}

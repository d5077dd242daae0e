// What a host creates at start-up from configuration: the guest and
// whisk.system subjects (GUEST_AUTH, WHISK_SYSTEM_AUTH) and the /whisk.system
// catalog. Idempotent, and a key is stored only as its hash.
import { CATALOG_NAMESPACE, installCatalog } from "../catalog/install.js";
import { hashAuthKey, parseAuthKey } from "../core/auth.js";
import type { Store } from "../ports/store.js";

/** The `uuid:key`s a host is configured with; either may be unset. */
export interface PlatformSeed {
  guestAuth?: string;
  whiskSystemAuth?: string;
}

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

/** Both hosts' start-up seeding: the configured subjects, then the catalog. */
export async function seedPlatform(store: Store, seed: PlatformSeed): Promise<void> {
  if (seed.guestAuth) await seedSubject(store, seed.guestAuth, "guest");
  if (seed.whiskSystemAuth) await seedSubject(store, seed.whiskSystemAuth, CATALOG_NAMESPACE);
  await installCatalog(store);
}

// The Store contract (test/support/store-contract.ts) on SQLite in memory:
// the fast tier's store must behave as D1 and PostgreSQL do.
import { memoryStore } from "../support/memory-sql.js";
import { storeContract } from "../support/store-contract.js";

storeContract("SQLite in memory (node:sqlite)", async () => ({ store: memoryStore().store }));

// The Store contract (test/support/store-contract.ts) on PostgreSQL, in a
// database of this file's own with migrations/ applied as a controller does.
import { applyMigrations } from "../../src/node/migrate.js";
import { createPool, PostgresSql } from "../../src/node/postgres.js";
import { SqlStore } from "../../src/store/sql-store.js";
import { storeContract } from "../support/store-contract.js";
import { createTestDatabase, testServices } from "./services.js";

const services = await testServices();

storeContract(
  "PostgreSQL",
  async () => {
    const database = await createTestDatabase(services!);
    const pool = createPool(database.url);
    await applyMigrations(pool);
    return {
      store: new SqlStore(new PostgresSql(pool)),
      async close() {
        await pool.end();
        await database.drop();
      },
    };
  },
  { skip: !services },
);

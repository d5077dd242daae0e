// The Store contract (test/support/store-contract.ts) on D1, inside workerd,
// with the migrations apply-migrations.ts applied to the test binding.
import { env } from "cloudflare:workers";
import { D1Sql } from "../../src/cloudflare/d1.js";
import { SqlStore } from "../../src/store/sql-store.js";
import { storeContract } from "../support/store-contract.js";

storeContract("D1", async () => ({ store: new SqlStore(new D1Sql(env.DB)) }));

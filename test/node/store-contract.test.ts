// The Store contract (test/support/store-contract.ts) on PostgreSQL, in a
// database of this file's own with migrations/ applied as a controller does.
import { storeContract } from "../support/store-contract.js";
import { migratedStore, testServices } from "./services.js";

const services = await testServices();

storeContract("PostgreSQL", () => migratedStore(services!), { skip: !services });

// Counts the PostgreSQL round trips of the process it is preloaded into
// (`node --import ./bench/pg-round-trips.mjs`, EDGEWHISK_PG_COUNT_DIR set):
// every query a pg client sends, BEGIN and COMMIT included, by the kind of
// statement, written to <dir>/<pid>.json every 100 ms. bench/node-cluster.mjs
// preloads it into the controller and invokers with `--count-queries` and
// reads the files around each phase. Not for production: it patches pg.
import { renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const dir = process.env.EDGEWHISK_PG_COUNT_DIR;
if (dir) {
  const pg = createRequire(join(process.cwd(), "package.json"))("pg");
  const counts = {};
  const kind = (text) => {
    const sql = String(text).replace(/\s+/g, " ").trim();
    const table = /\b(?:FROM|INTO|UPDATE)\s+([a-z_]+)/i.exec(sql)?.[1];
    const verb = sql.split(" ")[0].toUpperCase();
    if (/pg_advisory/.test(sql)) return "SELECT pg_advisory_xact_lock";
    return table ? `${verb} ${table}` : verb;
  };
  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function (config, ...rest) {
    const key = kind(typeof config === "string" ? config : config?.text);
    counts[key] = (counts[key] ?? 0) + 1;
    return query.call(this, config, ...rest);
  };
  const file = join(dir, `${process.pid}.json`);
  // Written aside and renamed: a reader never sees half a file.
  const timer = setInterval(() => {
    writeFileSync(`${file}.tmp`, JSON.stringify(counts));
    renameSync(`${file}.tmp`, file);
  }, 100);
  timer.unref();
}

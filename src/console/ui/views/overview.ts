// The namespace at a glance: how many of each entity, and the last hour's
// activations per minute, error rate and duration percentiles, computed
// here from the activation list API (up to MAX_RECORDS summaries).
import { html } from "htm/preact";
import { useMemo } from "preact/hooks";
import { call, ns, query } from "../api.js";
import { Loading, ms, useLoad } from "../common.js";
import { activityByMinute, hourTotals } from "../../model/metrics.js";
import type { ActivationView } from "../../model/records.js";
import { TimeChart } from "./chart.js";
import { listApis } from "./apis.js";

const PAGE = 200;
/** More than this in an hour and the charts show the newest MAX_RECORDS (the page says so). */
const MAX_RECORDS = 2000;
const HOUR = 3_600_000;

async function counts() {
  const count = async (collection: string) => (await call<Record<string, number>>("GET", ns(`${collection}?count=true`)))[collection];
  const [actions, packages, triggers, rules, apis] = await Promise.all([
    count("actions"),
    count("packages"),
    count("triggers"),
    count("rules"),
    listApis().then((list) => list.length),
  ]);
  return { actions, packages, triggers, rules, apis };
}

/** The last hour's activation summaries, newest first, paged through the list API. */
export async function lastHour(now: number): Promise<{ records: ActivationView[]; truncated: boolean }> {
  const records: ActivationView[] = [];
  for (let skip = 0; skip < MAX_RECORDS; skip += PAGE) {
    const page = await call<ActivationView[]>("GET", ns(`activations${query({ since: now - HOUR, limit: PAGE, skip })}`));
    records.push(...page);
    if (page.length < PAGE) return { records, truncated: false };
  }
  return { records, truncated: true };
}

export function Overview() {
  const entityCounts = useLoad(counts, []);
  const activity = useLoad(async () => {
    const now = Date.now();
    return { now, ...(await lastHour(now)) };
  }, []);
  const series = useMemo(() => activity.data && activityByMinute(activity.data.records, activity.data.now), [activity.data]);
  const totals = useMemo(() => activity.data && hourTotals(activity.data.records), [activity.data]);
  return html`
    <h1>Overview</h1>
    <${Loading} loaded=${entityCounts}>${(c: Record<string, number>) => html`
      <ul class="counts" data-testid="counts">
        ${["actions", "packages", "triggers", "rules", "apis"].map(
          (k) => html`<li><a href=${`#/${k}`}><strong data-testid=${`count-${k}`}>${c[k]}</strong> ${k === "apis" ? "APIs" : k}</a></li>`,
        )}
      </ul>`}
    <//>
    <h2>Last hour <button type="button" class="small" onClick=${activity.reload}>Refresh</button></h2>
    <${Loading} loaded=${activity}>${() => html`
      <p data-testid="hour-totals">${`${totals!.activations} activations${activity.data!.truncated ? ` (the newest ${MAX_RECORDS})` : ""}, ${totals!.errors} errors (${totals!.errorRate.toFixed(1)}%), duration p50 ${ms(totals!.p50)}, p99 ${ms(totals!.p99)}`}</p>
      <div class="charts">
        <${TimeChart} testid="chart-rate" title="Activations per minute" minutes=${series!.minutes}
          series=${[{ label: "activations", values: series!.count, color: "#2563eb" }, { label: "errors", values: series!.errors, color: "#dc2626" }]} />
        <${TimeChart} testid="chart-errors" title="Error rate" minutes=${series!.minutes}
          series=${[{ label: "error rate", values: series!.errorRate, color: "#dc2626", unit: "%", points: true }]} />
        <${TimeChart} testid="chart-duration" title="Duration" minutes=${series!.minutes}
          series=${[{ label: "p50", values: series!.p50, color: "#059669", unit: " ms", points: true }, { label: "p99", values: series!.p99, color: "#d97706", unit: " ms", points: true }]} />
      </div>`}
    <//>
  `;
}

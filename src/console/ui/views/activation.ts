// One activation: status, timings, result, logs and annotations; for a
// sequence, a conductor or a trigger, the timeline of what it set off.
import { html } from "htm/preact";
import { call, ApiError, ns } from "../api.js";
import { Json, Loading, ms, time, useLoad } from "../common.js";
import { href } from "../router.js";
import { annotation, startKind, statusName, type ActivationView } from "../../model/records.js";
import { compositionOf, waterfall, type Waterfall } from "../../model/timeline.js";

async function find(id: string): Promise<ActivationView | undefined> {
  try {
    return await call<ActivationView>("GET", ns(`activations/${id}`));
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return undefined;
    throw err;
  }
}

/** The records a composite activation links to, placed as a waterfall. */
async function timelineOf(record: ActivationView): Promise<Waterfall | undefined> {
  const composition = compositionOf(record);
  if (composition.kind === "none") return undefined;
  const parts =
    composition.kind === "components"
      ? composition.ids.map((id) => ({ id, label: undefined as string | undefined }))
      : composition.outcomes.map((o, i) => ({ id: o.activationId ?? `rule-${i}`, label: `${o.rule ?? "rule"} → ${o.action ?? "?"}${o.error ? `: ${o.error}` : ""}` }));
  const records = await Promise.all(parts.map((p) => (/^[0-9a-f]{32}$/.test(p.id) ? find(p.id) : Promise.resolve(undefined))));
  return waterfall(
    record,
    parts.map((p, i) => ({ ...p, record: records[i] })),
  );
}

const pct = (value: number, span: number) => `${Math.max(0, Math.min(100, (100 * value) / span))}%`;

function Timeline({ chart }: { chart: Waterfall }) {
  const { span } = chart;
  return html`
    <div class="timeline" data-testid="timeline">
      <div class="scale"><span>0 ms</span><span>${Math.round(span)} ms</span></div>
      ${chart.rows.map((row) => {
        const waitStart = Math.max(0, row.offset - (row.waitTime ?? 0));
        return html`<div class="row" data-testid="timeline-row" data-id=${row.activationId} data-duration=${row.duration}>
          <div class="label" title=${row.label}>${row.missing ? html`<span class="muted">${row.label}</span>` : html`<a href=${href("activations", row.activationId)}>${row.label}</a>`}</div>
          <div class="track">
            ${row.waitTime ? html`<div class="bar wait" title=${`wait ${row.waitTime} ms`} style=${{ left: pct(waitStart, span), width: pct(row.offset - waitStart, span) }}></div>` : null}
            ${!row.missing && html`<div class=${`bar ${row.statusCode ? "failed" : "run"}`} style=${{ left: pct(row.offset, span), width: `max(2px, ${pct(row.duration, span)})` }}>
              ${row.initTime ? html`<div class="bar init" title=${`init ${row.initTime} ms`} style=${{ width: pct(row.initTime, Math.max(1, row.duration)) }}></div>` : null}
            </div>`}
          </div>
          <div class="timing">
            ${row.missing ? "not recorded" : html`<span data-testid="timeline-duration">${ms(row.duration)}</span>`}${[
              row.waitTime ? ` · wait ${ms(row.waitTime)}` : "",
              row.initTime ? ` · init ${ms(row.initTime)}` : "",
              row.missing ? "" : ` · at +${ms(row.offset)}`,
            ].join("")}
          </div>
        </div>`;
      })}
      <p class="legend"><span class="bar wait"></span> waiting <span class="bar init"></span> init (cold start) <span class="bar run"></span> running <span class="bar failed"></span> failed</p>
    </div>
  `;
}

export function ActivationPage({ id }: { id: string }) {
  const record = useLoad(() => call<ActivationView>("GET", ns(`activations/${encodeURIComponent(id)}`)), [id]);
  const chart = useLoad(async () => (record.data ? timelineOf(record.data) : undefined), [record.data]);
  return html`<${Loading} loaded=${record}>${(r: ActivationView) => {
    const path = annotation(r, "path");
    const composite = compositionOf(r).kind !== "none";
    const wait = annotation(r, "waitTime");
    const init = annotation(r, "initTime");
    return html`
      <h1>Activation <code data-testid="activation-id">${r.activationId}</code></h1>
      <dl class="facts">
        <dt>name</dt><dd>${path ? html`<a href=${href("actions", String(path).split("/").slice(1).join("/"))}>${String(path)}</a>` : r.name}</dd>
        <dt>status</dt><dd class=${r.statusCode === 0 ? "ok" : "error"} data-testid="activation-status">${statusName(r)}</dd>
        <dt>start</dt><dd>${time(r.start)}</dd>
        <dt>end</dt><dd>${time(r.end)}</dd>
        <dt>duration</dt><dd data-testid="activation-duration">${ms(r.duration)}</dd>
        ${typeof wait === "number" ? html`<dt>wait</dt><dd>${ms(wait)}</dd>` : null}
        ${typeof init === "number" ? html`<dt>init</dt><dd>${ms(init)}</dd>` : null}
        ${startKind(r) ? html`<dt>start</dt><dd data-testid="activation-start">${startKind(r)}</dd>` : null}
        ${annotation(r, "kind") ? html`<dt>kind</dt><dd>${String(annotation(r, "kind"))}</dd>` : null}
        ${r.cause ? html`<dt>cause</dt><dd><a href=${href("activations", r.cause)} data-testid="activation-cause">${r.cause}</a></dd>` : null}
      </dl>
      ${composite
        ? html`<h2>Timeline</h2><${Loading} loaded=${chart}>${(c: Waterfall | undefined) => (c ? html`<${Timeline} chart=${c} />` : null)}<//>`
        : null}
      <h2>Result</h2><${Json} value=${r.response?.result} testid="activation-result" />
      <h2>Logs</h2><pre class="logs" data-testid="activation-logs">${(r.logs ?? []).join("\n") || "(none)"}</pre>
      <h2>Annotations</h2><${Json} value=${Object.fromEntries((r.annotations ?? []).map((kv) => [kv.key, kv.value]))} />
    `;
  }}<//>`;
}

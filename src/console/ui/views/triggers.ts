// Triggers: the list, and one trigger's page with its feed, its rules (from
// the trigger's rule map), a fire form and its parameters.
import { html } from "htm/preact";
import { useState } from "preact/hooks";
import { call, ns } from "../api.js";
import { ErrorBox, JsonArea, Loading, parseJsonObject, time, useLoad } from "../common.js";
import { href } from "../router.js";
import { annotation, type KeyValue } from "../../model/records.js";
import { ParametersForm } from "./entity-form.js";

interface Trigger {
  namespace: string;
  name: string;
  version: string;
  publish?: boolean;
  updated?: number;
  parameters?: KeyValue[];
  annotations?: KeyValue[];
  rules?: Record<string, { action: { name: string; path: string }; status: string }>;
}

export function TriggerList() {
  const triggers = useLoad(() => call<Trigger[]>("GET", ns("triggers?limit=200")), []);
  return html`
    <h1>Triggers</h1>
    <${Loading} loaded=${triggers}>${(list: Trigger[]) =>
      list.length === 0
        ? html`<p class="muted">No triggers yet.</p>`
        : html`<table data-testid="trigger-list"><thead><tr><th>name</th><th>feed</th><th>version</th><th>updated</th></tr></thead>
          <tbody>${list.map((t) => html`<tr><td><a href=${href("triggers", t.name)}>${t.name}</a></td><td>${String(annotation(t, "feed") ?? "")}</td><td>${t.version}</td><td>${time(t.updated)}</td></tr>`)}</tbody></table>`}
    <//>
  `;
}

function FireForm({ name }: { name: string }) {
  const [params, setParams] = useState("{}");
  const [answer, setAnswer] = useState<string>();
  const [error, setError] = useState<string>();
  const fire = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    setAnswer(undefined);
    try {
      const result = await call<{ activationId?: string } | undefined>("POST", ns(`triggers/${encodeURIComponent(name)}`), parseJsonObject(params, "Parameters"));
      setAnswer(result?.activationId ?? "no active rule: nothing ran");
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return html`<form class="grid" onSubmit=${fire}>
    <${JsonArea} label="Fire with parameters" value=${params} onInput=${setParams} rows=${2} />
    <div class="buttons"><button type="submit" data-testid="fire">Fire</button>
      ${answer && (answer.length === 32 ? html`<a href=${href("activations", answer)} data-testid="fired">${answer}</a>` : html`<span data-testid="fired">${answer}</span>`)}</div>
    <${ErrorBox} error=${error} />
  </form>`;
}

export function TriggerPage({ name }: { name: string }) {
  const trigger = useLoad(() => call<Trigger>("GET", ns(`triggers/${encodeURIComponent(name)}`)), [name]);
  return html`<${Loading} loaded=${trigger}>${(t: Trigger) => {
    const feed = annotation(t, "feed");
    const rules = Object.entries(t.rules ?? {});
    return html`
      <h1>Trigger <span data-testid="trigger-name">${t.name}</span></h1>
      <p class="muted">version ${t.version}, updated ${time(t.updated)}</p>
      ${feed ? html`<p>Feed: <code data-testid="trigger-feed">${String(feed)}</code></p>` : null}
      <h2>Rules</h2>
      ${rules.length
        ? html`<table data-testid="trigger-rules"><thead><tr><th>rule</th><th>action</th><th>status</th></tr></thead><tbody>
            ${rules.map(([rule, r]) => html`<tr><td>${rule}</td><td>/${r.action.path}/${r.action.name}</td><td>${r.status}</td></tr>`)}</tbody></table>`
        : html`<p class="muted">No rules.</p>`}
      <p><a href=${`#/activations?name=${encodeURIComponent(t.name)}`}>Its activations</a></p>
      <h2>Fire</h2><${FireForm} name=${t.name} />
      <h2>Edit</h2><${ParametersForm} entity=${t} path=${ns(`triggers/${encodeURIComponent(t.name)}`)} onSaved=${trigger.reload} />
    `;
  }}<//>`;
}

// Rules with their status; enabling and disabling is the POST `wsk rule
// enable/disable` sends.
import { html } from "htm/preact";
import { useState } from "preact/hooks";
import { call, ns } from "../api.js";
import { ErrorBox, Loading, useLoad } from "../common.js";
import { href } from "../router.js";

interface Rule {
  name: string;
  version: string;
  status?: string;
  trigger: { path: string; name: string };
  action: { path: string; name: string };
}

/** The list's summaries may lack a status: each rule is read for it. */
async function rulesWithStatus(): Promise<Rule[]> {
  const list = await call<Rule[]>("GET", ns("rules?limit=200"));
  return Promise.all(list.map((r) => call<Rule>("GET", ns(`rules/${encodeURIComponent(r.name)}`))));
}

export function RuleList() {
  const rules = useLoad(rulesWithStatus, []);
  const [error, setError] = useState<string>();
  const setStatus = async (rule: Rule, status: "active" | "inactive") => {
    setError(undefined);
    try {
      await call("POST", ns(`rules/${encodeURIComponent(rule.name)}`), { status });
      rules.reload();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return html`
    <h1>Rules</h1>
    <${ErrorBox} error=${error} />
    <${Loading} loaded=${rules}>${(list: Rule[]) =>
      list.length === 0
        ? html`<p class="muted">No rules yet.</p>`
        : html`<table data-testid="rule-list"><thead><tr><th>name</th><th>trigger</th><th>action</th><th>status</th><th></th></tr></thead>
          <tbody>${list.map(
            (r) => html`<tr data-rule=${r.name}>
              <td>${r.name}</td>
              <td><a href=${href("triggers", r.trigger.name)}>/${r.trigger.path}/${r.trigger.name}</a></td>
              <td>/${r.action.path}/${r.action.name}</td>
              <td data-testid="rule-status">${r.status}</td>
              <td>${r.status === "active"
                ? html`<button type="button" class="small" data-testid="rule-disable" onClick=${() => setStatus(r, "inactive")}>Disable</button>`
                : html`<button type="button" class="small" data-testid="rule-enable" onClick=${() => setStatus(r, "active")}>Enable</button>`}</td>
            </tr>`,
          )}</tbody></table>`}
    <//>
  `;
}

// Invoke an action with JSON parameters, blocking or not, and show what came
// back: result, logs, duration and whether its isolate started cold.
import { html } from "htm/preact";
import { useState } from "preact/hooks";
import { call, entityPath, ns } from "../api.js";
import { ErrorBox, Json, JsonArea, ms, parseJsonObject } from "../common.js";
import { href } from "../router.js";
import { annotation, startKind, statusName, type ActivationView } from "../../model/records.js";

export function InvokePanel({ name }: { name: string }) {
  const [params, setParams] = useState("{}");
  const [blocking, setBlocking] = useState(true);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [record, setRecord] = useState<ActivationView>();
  const [accepted, setAccepted] = useState<string>();

  const invoke = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    setRecord(undefined);
    setAccepted(undefined);
    setBusy(true);
    try {
      const body = parseJsonObject(params, "Parameters");
      const answer = await call<ActivationView & { activationId: string }>("POST", ns(`actions/${entityPath(name)}?blocking=${blocking}`), body);
      // A blocking invoke that outlives its wait answers 202 with the id only, as a non-blocking one does.
      if (answer.start === undefined) setAccepted(answer.activationId);
      else setRecord(answer);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return html`
    <section class="panel" data-testid="invoke-panel">
      <h2>Invoke</h2>
      <form onSubmit=${invoke} class="grid">
        <${JsonArea} label="Parameters (JSON object)" testid="invoke-params" value=${params} onInput=${setParams} rows=${3} />
        <label class="check"><input type="checkbox" data-testid="invoke-blocking" checked=${blocking} onChange=${(e: Event) => setBlocking((e.target as HTMLInputElement).checked)} /> Blocking</label>
        <div class="buttons"><button type="submit" disabled=${busy} data-testid="invoke">Invoke</button></div>
      </form>
      <${ErrorBox} error=${error} />
      ${accepted && html`<p data-testid="invoke-accepted">Accepted: <a href=${href("activations", accepted)}>${accepted}</a></p>`}
      ${record && html`
        <div data-testid="invoke-result">
          <p class="facts-line">
            <a href=${href("activations", record.activationId)} data-testid="invoke-activation">${record.activationId}</a>
            <span class=${record.statusCode === 0 ? "ok" : "error"} data-testid="invoke-status">${statusName(record)}</span>
            <span data-testid="invoke-duration">${ms(record.duration)}</span>
            ${startKind(record) && html`<span><span data-testid="invoke-start">${startKind(record)}</span>${startKind(record) === "cold" ? ` (init ${ms(annotation(record, "initTime") as number)})` : ""}</span>`}
          </p>
          <h3>Result</h3><${Json} value=${record.response?.result} testid="invoke-output" />
          <h3>Logs</h3><pre class="logs" data-testid="invoke-logs">${(record.logs ?? []).join("\n") || "(none)"}</pre>
        </div>`}
    </section>
  `;
}

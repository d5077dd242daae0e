// The activation list with the API's filters (name, since, upto) and a
// status filter, tailed live by polling while "Live" is on.
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { call, ns, query } from "../api.js";
import { ErrorBox, ms, time } from "../common.js";
import { href } from "../router.js";
import { annotation, startKind, statusName, type ActivationView } from "../../model/records.js";

const POLL_MS = 2000;
const PAGE = 50;

/** `datetime-local` text → epoch ms (empty: no bound). */
const epoch = (local: string) => (local ? String(new Date(local).getTime()) : undefined);

export function ActivationList({ initialName }: { initialName: string }) {
  const [name, setName] = useState(initialName);
  const [since, setSince] = useState("");
  const [upto, setUpto] = useState("");
  const [status, setStatus] = useState("all");
  const [live, setLive] = useState(true);
  const [records, setRecords] = useState<ActivationView[]>();
  const [error, setError] = useState<string>();
  const [polled, setPolled] = useState<number>();

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async () => {
      try {
        const list = await call<ActivationView[]>("GET", ns(`activations${query({ name: name.trim(), since: epoch(since), upto: epoch(upto), limit: PAGE })}`));
        if (stopped) return;
        setRecords(list);
        setError(undefined);
        setPolled(Date.now());
      } catch (err) {
        if (!stopped) setError((err as Error).message);
      }
      if (live && !stopped) timer = setTimeout(load, POLL_MS);
    };
    void load();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [name, since, upto, live]);

  const shown = (records ?? []).filter((r) => status === "all" || (status === "success" ? r.statusCode === 0 : r.statusCode !== undefined && r.statusCode !== 0));
  const input = (set: (v: string) => void) => (e: Event) => set((e.target as HTMLInputElement).value);
  return html`
    <h1>Activations</h1>
    <form class="filters" onSubmit=${(e: Event) => e.preventDefault()}>
      <label>Name <input data-testid="filter-name" placeholder="name or pkg/name" value=${name} onChange=${input(setName)} /></label>
      <label>Since <input type="datetime-local" step="1" data-testid="filter-since" value=${since} onChange=${input(setSince)} /></label>
      <label>Up to <input type="datetime-local" step="1" data-testid="filter-upto" value=${upto} onChange=${input(setUpto)} /></label>
      <label>Status <select data-testid="filter-status" value=${status} onChange=${input(setStatus)}>
        <option value="all">all</option><option value="success">success</option><option value="error">errors</option></select></label>
      <label class="check"><input type="checkbox" data-testid="live" checked=${live} onChange=${(e: Event) => setLive((e.target as HTMLInputElement).checked)} /> Live</label>
      <span class="muted">${polled ? `updated ${new Date(polled).toLocaleTimeString(undefined, { hour12: false })}` : ""}</span>
    </form>
    <${ErrorBox} error=${error} />
    <table data-testid="activation-list">
      <thead><tr><th>activation</th><th>name</th><th>start</th><th>duration</th><th>status</th><th>isolate</th></tr></thead>
      <tbody>${shown.map(
        (r) => html`<tr data-testid="activation-row" data-id=${r.activationId}>
          <td><a href=${href("activations", r.activationId)}><code>${r.activationId}</code></a></td>
          <td>${String(annotation(r, "path") ?? r.name)}</td>
          <td>${time(r.start)}</td>
          <td>${ms(r.duration)}</td>
          <td class=${r.statusCode === 0 ? "ok" : r.statusCode === undefined ? "" : "error"}>${statusName(r)}</td>
          <td>${startKind(r) ?? ""}</td>
        </tr>`,
      )}</tbody>
    </table>
    ${records && shown.length === 0 ? html`<p class="muted">No activations match.</p>` : null}
  `;
}

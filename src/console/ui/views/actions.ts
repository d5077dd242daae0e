// Actions: the list, and one action's page (code, kind, main, parameters,
// annotations, limits, web export) where saving is a PUT with overwrite, as
// `wsk action update` does, and invoking is beside it.
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { call, entityPath, ns } from "../api.js";
import { ErrorBox, JsonArea, Loading, entityName, keyValuesToText, textToKeyValues, time, useLoad } from "../common.js";
import { href, navigate } from "../router.js";
import type { KeyValue } from "../../model/records.js";
import { CodeEditor } from "./editor.js";
import { InvokePanel } from "./invoke.js";

interface Action {
  namespace: string;
  name: string;
  version: string;
  publish?: boolean;
  updated?: number;
  exec: { kind: string; code?: string; main?: string; binary?: boolean; components?: string[] };
  parameters?: KeyValue[];
  annotations?: KeyValue[];
  limits?: { timeout?: number; memory?: number; logs?: number; concurrency?: number };
}

export function ActionList() {
  const actions = useLoad(() => call<Action[]>("GET", ns("actions?limit=200")), []);
  return html`
    <h1>Actions <a class="button" href="#/new-action" data-testid="new-action">New action</a></h1>
    <${Loading} loaded=${actions}>${(list: Action[]) =>
      list.length === 0
        ? html`<p class="muted">No actions yet.</p>`
        : html`<table data-testid="action-list">
            <thead><tr><th>name</th><th>kind</th><th>version</th><th>web</th><th>updated</th></tr></thead>
            <tbody>${list.map((a) => {
              const name = entityName(a);
              const web = a.annotations?.some((kv) => kv.key === "web-export" && kv.value === true);
              return html`<tr><td><a href=${href("actions", name)}>${name}</a></td><td>${a.exec.kind}</td><td>${a.version}</td><td>${web ? "yes" : ""}</td><td>${time(a.updated)}</td></tr>`;
            })}</tbody>
          </table>`}
    <//>
  `;
}

/** Every kind the platform announces at /api/v1 (`runtimes`), plus sequences. */
function useKinds(): string[] {
  const info = useLoad(() => call<{ runtimes?: Record<string, { kind: string; default?: boolean }[]> }>("GET", "/api/v1"), []);
  const kinds = Object.values(info.data?.runtimes ?? {}).flatMap((family) => family.map((r) => r.kind));
  return [...(kinds.length ? kinds : ["nodejs:20"]), "sequence"];
}

const STARTER = `function main(params) {
  return { greeting: "Hello, " + (params.name || "world") + "!" };
}
`;
const PY_STARTER = `def main(args):
    return {"greeting": "Hello, " + args.get("name", "world") + "!"}
`;

interface Draft {
  name: string;
  kind: string;
  code: string;
  main: string;
  components: string;
  parameters: string;
  annotations: string;
  web: boolean;
  /** Whether the saved action was a web action (turning it off then says web-export false). */
  wasWeb: boolean;
  limits: { timeout: string; memory: string; logs: string; concurrency: string };
}

function draftOf(action?: Action): Draft {
  const web = action?.annotations?.find((kv) => kv.key === "web-export")?.value === true;
  const limit = (k: "timeout" | "memory" | "logs" | "concurrency") => (action?.limits?.[k] === undefined ? "" : String(action.limits[k]));
  return {
    name: action ? entityName(action) : "",
    kind: action?.exec.kind ?? "nodejs:20",
    code: action?.exec.code ?? STARTER,
    main: action?.exec.main ?? "",
    components: (action?.exec.components ?? []).join("\n"),
    parameters: keyValuesToText(action?.parameters),
    annotations: keyValuesToText(action?.annotations?.filter((kv) => kv.key !== "web-export" && kv.key !== "exec")),
    web,
    wasWeb: web,
    limits: { timeout: limit("timeout"), memory: limit("memory"), logs: limit("logs"), concurrency: limit("concurrency") },
  };
}

/** The PUT body for a draft: what `wsk action update` would send. */
function actionBody(draft: Draft) {
  const annotations = textToKeyValues(draft.annotations, "Annotations").filter((kv) => !["web-export", "raw-http", "final"].includes(kv.key) || !draft.web);
  // --web true sets these three, --web false turns web-export off.
  if (draft.web) annotations.push({ key: "web-export", value: true }, { key: "raw-http", value: false }, { key: "final", value: true });
  else if (draft.wasWeb) annotations.push({ key: "web-export", value: false });
  const limits = Object.fromEntries(
    Object.entries(draft.limits)
      .filter(([, v]) => v.trim() !== "")
      .map(([k, v]) => [k, Number(v)]),
  );
  const exec =
    draft.kind === "sequence"
      ? { kind: "sequence", components: draft.components.split(/\s+/).filter(Boolean) }
      : { kind: draft.kind, code: draft.code, ...(draft.main.trim() ? { main: draft.main.trim() } : {}) };
  return { exec, parameters: textToKeyValues(draft.parameters, "Parameters"), annotations, ...(Object.keys(limits).length ? { limits } : {}) };
}

export function ActionPage({ name, namespace }: { name?: string; namespace: string }) {
  const loaded = useLoad(async () => (name ? call<Action>("GET", ns(`actions/${entityPath(name)}`)) : undefined), [name]);
  const kinds = useKinds();
  const [draft, setDraft] = useState<Draft>(draftOf());
  const [error, setError] = useState<string>();
  const [saved, setSaved] = useState<string>();
  useEffect(() => {
    if (loaded.data) setDraft(draftOf(loaded.data));
  }, [loaded.data]);

  const set = (patch: Partial<Draft>) => setDraft((d) => ({ ...d, ...patch }));
  const setLimit = (k: keyof Draft["limits"], v: string) => setDraft((d) => ({ ...d, limits: { ...d.limits, [k]: v } }));
  const setKind = (kind: string) =>
    setDraft((d) => ({ ...d, kind, code: !name && d.code === (d.kind.startsWith("python") ? PY_STARTER : STARTER) ? (kind.startsWith("python") ? PY_STARTER : STARTER) : d.code }));

  const save = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    setSaved(undefined);
    try {
      const target = name ?? draft.name.trim();
      if (!target) throw new Error("The action needs a name.");
      const action = await call<Action>("PUT", ns(`actions/${entityPath(target)}?overwrite=${name ? "true" : "false"}`), actionBody(draft));
      setSaved(`Saved version ${action.version}.`);
      if (!name) navigate(href("actions", target).slice(1));
      else loaded.reload();
    } catch (err) {
      setError((err as Error).message);
    }
  };

  const remove = async () => {
    if (!name || !confirm(`Delete action ${name}?`)) return;
    try {
      await call("DELETE", ns(`actions/${entityPath(name)}`));
      navigate("/actions");
    } catch (err) {
      setError((err as Error).message);
    }
  };

  if (name && !loaded.data) return html`<${Loading} loaded=${loaded}>${() => null}<//>`;
  const action = loaded.data;
  const [pkg, simple] = name?.includes("/") ? name.split("/") : ["default", name];
  const webUrl = `${location.origin}/api/v1/web/${namespace}/${pkg}/${simple}`;
  const isSequence = draft.kind === "sequence";
  return html`
    <h1>${name ? html`Action <span data-testid="action-name">${name}</span>` : "New action"}</h1>
    ${action && html`<p class="muted">version <span data-testid="action-version">${action.version}</span>, updated ${time(action.updated)}</p>`}
    <form class="grid" onSubmit=${save} data-testid="action-form">
      ${!name && html`<label class="field">Name <input data-testid="action-name-input" placeholder="pkg/name or name" value=${draft.name} onInput=${(e: Event) => set({ name: (e.target as HTMLInputElement).value })} /></label>`}
      <label class="field">Kind
        <select data-testid="action-kind" value=${draft.kind} onChange=${(e: Event) => setKind((e.target as HTMLSelectElement).value)}>
          ${[...new Set([...kinds, draft.kind])].map((k) => html`<option value=${k}>${k}</option>`)}
        </select>
      </label>
      ${!isSequence && html`<label class="field">Main <input data-testid="action-main" placeholder="main" value=${draft.main} onInput=${(e: Event) => set({ main: (e.target as HTMLInputElement).value })} /></label>`}
      ${isSequence
        ? html`<${JsonArea} label="Components (one fully qualified action per line)" testid="action-components" value=${draft.components} onInput=${(v: string) => set({ components: v })} />`
        : action?.exec.binary
          ? html`<p class="muted wide">The code is a zip archive (${Math.round((action.exec.code?.length ?? 0) / 1024)} KiB base64); update it with wsk.</p>`
          : html`<div class="wide"><${CodeEditor} code=${draft.code} kind=${draft.kind} onChange=${(code: string) => set({ code })} /></div>`}
      <${JsonArea} label="Parameters" testid="action-parameters" value=${draft.parameters} onInput=${(v: string) => set({ parameters: v })} />
      <${JsonArea} label="Annotations" testid="action-annotations" value=${draft.annotations} onInput=${(v: string) => set({ annotations: v })} />
      <fieldset class="wide limits"><legend>Limits</legend>
        ${(["timeout", "memory", "logs", "concurrency"] as const).map(
          (k) => html`<label class="field">${k}${k === "timeout" ? " (ms)" : k === "memory" || k === "logs" ? " (MB)" : ""}
            <input type="number" min="0" data-testid=${`limit-${k}`} value=${draft.limits[k]} onInput=${(e: Event) => setLimit(k, (e.target as HTMLInputElement).value)} /></label>`,
        )}
      </fieldset>
      <label class="check wide"><input type="checkbox" data-testid="action-web" checked=${draft.web} onChange=${(e: Event) => set({ web: (e.target as HTMLInputElement).checked })} /> Web action</label>
      ${name && draft.web && html`<p class="wide">URL: <a data-testid="web-url" href=${webUrl} target="_blank" rel="noopener noreferrer">${webUrl}</a></p>`}
      <div class="wide buttons">
        <button type="submit" data-testid="save-action">${name ? "Save" : "Create"}</button>
        ${name && html`<button type="button" class="danger" onClick=${remove}>Delete</button>`}
        ${name && html`<a href=${`#/activations?name=${encodeURIComponent(name)}`}>Activations</a>`}
        <span class="ok" data-testid="saved">${saved ?? ""}</span>
      </div>
      <div class="wide"><${ErrorBox} error=${error} /></div>
    </form>
    ${name && html`<${InvokePanel} name=${name} />`}
  `;
}

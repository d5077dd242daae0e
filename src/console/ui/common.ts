// Pieces every view uses: loading data, showing OpenWhisk's error message,
// editing parameters and annotations as JSON, formatting times.
import { html } from "htm/preact";
import { useCallback, useEffect, useState } from "preact/hooks";
import type { KeyValue } from "../model/records.js";

export interface Loaded<T> {
  data?: T;
  error?: string;
  loading: boolean;
  reload(): void;
}

/** Runs `load` when `deps` change (and on reload); keeps the last answer while reloading. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: string; loading: boolean }>({ loading: true });
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    let current = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => current && setState({ data, loading: false }),
      (err: Error) => current && setState({ error: err.message, loading: false }),
    );
    return () => {
      current = false;
    };
  }, [...deps, generation]);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { ...state, reload };
}

export const ErrorBox = ({ error }: { error?: string }) => (error ? html`<p class="error" role="alert" data-testid="error">${error}</p>` : null);

export function Loading<T>({ loaded, children }: { loaded: Loaded<T>; children: (data: T) => unknown }) {
  if (loaded.error) return html`<${ErrorBox} error=${loaded.error} />`;
  if (loaded.data === undefined) return html`<p class="muted">Loading…</p>`;
  return children(loaded.data);
}

/** `[{key, value}]` ↔ `{key: value}` text, as `wsk -p key value` users think of them. */
export const keyValuesToText = (list: KeyValue[] | undefined) =>
  JSON.stringify(Object.fromEntries((list ?? []).map((kv) => [kv.key, kv.value])), null, 2);

export function textToKeyValues(text: string, what: string): KeyValue[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.trim() || "{}");
  } catch (err) {
    throw new Error(`${what}: not JSON (${(err as Error).message})`);
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error(`${what}: a JSON object of names and values is expected`);
  return Object.entries(parsed).map(([key, value]) => ({ key, value }));
}

export function parseJsonObject(text: string, what: string): Record<string, unknown> {
  return Object.fromEntries(textToKeyValues(text, what).map((kv) => [kv.key, kv.value]));
}

export const JsonArea = ({ label, value, onInput, testid, rows = 4 }: { label: string; value: string; onInput: (v: string) => void; testid?: string; rows?: number }) =>
  html`<label class="field wide">${label}
    <textarea class="json" rows=${rows} spellcheck="false" data-testid=${testid} value=${value} onInput=${(e: Event) => onInput((e.target as HTMLTextAreaElement).value)}></textarea>
  </label>`;

export const Json = ({ value, testid }: { value: unknown; testid?: string }) => html`<pre class="json" data-testid=${testid}>${JSON.stringify(value, null, 2)}</pre>`;

export const time = (ms: number | undefined) => (ms === undefined ? "" : new Date(ms).toLocaleString(undefined, { hour12: false }));
export const ms = (value: number | null | undefined) => (value === undefined || value === null ? "–" : `${Math.round(value)} ms`);

/** `ns/pkg/name` or `name` of an entity in a list answer. */
export function entityName(entity: { namespace: string; name: string }): string {
  const pkg = entity.namespace.split("/")[1];
  return pkg ? `${pkg}/${entity.name}` : entity.name;
}

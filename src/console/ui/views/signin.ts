// Sign-in: a key is checked against this origin's API before it is kept.
import { html } from "htm/preact";
import { useState } from "preact/hooks";
import { ApiError, call } from "../api.js";
import { KEY_FORMAT, storeKey } from "../session.js";
import { ErrorBox } from "../common.js";

export function SignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const [key, setKey] = useState("");
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const candidate = key.trim();
    if (!KEY_FORMAT.test(candidate)) {
      setError("An API key looks like uuid:key (wsk property get --auth prints yours).");
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      await call("GET", "/api/v1/namespaces", undefined, candidate);
      storeKey(candidate);
      onSignedIn();
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? `401: ${err.message}` : (err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return html`
    <main class="signin">
      <h1>edgewhisk console</h1>
      <form onSubmit=${submit}>
        <label class="field wide">API key
          <input type="password" autocomplete="off" spellcheck="false" placeholder="uuid:key" data-testid="api-key"
            value=${key} onInput=${(e: Event) => setKey((e.target as HTMLInputElement).value)} />
        </label>
        <button type="submit" disabled=${busy} data-testid="sign-in">Sign in</button>
      </form>
      <${ErrorBox} error=${error} />
      <p class="muted">The key stays in this tab's session storage and is sent only to this server.</p>
    </main>
  `;
}

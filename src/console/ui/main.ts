// The edgewhisk console: sign in with a key, then every view of the
// namespace through the same REST API the CLI uses.
import "./style.css";
import { html, render } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { call } from "./api.js";
import { forgetKey, storedKey } from "./session.js";
import { navigate, useRoute, type Route } from "./router.js";
import { SignIn } from "./views/signin.js";
import { Overview } from "./views/overview.js";
import { ActionList, ActionPage } from "./views/actions.js";
import { PackageList, PackagePage } from "./views/packages.js";
import { TriggerList, TriggerPage } from "./views/triggers.js";
import { RuleList } from "./views/rules.js";
import { ApiList } from "./views/apis.js";
import { ActivationList } from "./views/activations.js";
import { ActivationPage } from "./views/activation.js";

const NAV: [view: string, label: string][] = [
  ["", "Overview"],
  ["actions", "Actions"],
  ["packages", "Packages"],
  ["triggers", "Triggers"],
  ["rules", "Rules"],
  ["apis", "APIs"],
  ["activations", "Activations"],
];

function view(route: Route, namespace: string) {
  switch (route.view) {
    case "":
      return html`<${Overview} />`;
    case "actions":
      return route.rest ? html`<${ActionPage} name=${route.rest} namespace=${namespace} />` : html`<${ActionList} />`;
    case "new-action":
      return html`<${ActionPage} namespace=${namespace} />`;
    case "packages":
      return route.rest ? html`<${PackagePage} name=${route.rest} />` : html`<${PackageList} namespace=${namespace} />`;
    case "triggers":
      return route.rest ? html`<${TriggerPage} name=${route.rest} />` : html`<${TriggerList} />`;
    case "rules":
      return html`<${RuleList} />`;
    case "apis":
      return html`<${ApiList} />`;
    case "activations":
      return route.rest ? html`<${ActivationPage} id=${route.rest} />` : html`<${ActivationList} initialName=${route.params.get("name") ?? ""} />`;
    default:
      return html`<p class="error">No such page.</p>`;
  }
}

function Console({ onSignOut }: { onSignOut: () => void }) {
  const route = useRoute();
  const [namespace, setNamespace] = useState<string>();
  useEffect(() => {
    call<string[]>("GET", "/api/v1/namespaces").then(
      (names) => setNamespace(names[0]),
      () => onSignOut(),
    );
  }, []);
  return html`
    <header class="top">
      <a class="brand" href="#/">edgewhisk</a>
      <nav>${NAV.map(([v, label]) => html`<a href=${`#/${v}`} class=${route.view === v ? "active" : ""}>${label}</a>`)}</nav>
      <span class="who" data-testid="namespace">${namespace ?? ""}</span>
      <a href="/api/v1/docs" target="_blank" rel="noopener noreferrer">API docs</a>
      <button type="button" data-testid="sign-out" onClick=${onSignOut}>Sign out</button>
    </header>
    <main>${namespace ? view(route, namespace) : html`<p class="muted">Loading…</p>`}</main>
    <footer class="muted"><a href="/console/licenses.txt" target="_blank">Third-party licenses</a></footer>
  `;
}

function App() {
  const [signedIn, setSignedIn] = useState(Boolean(storedKey()));
  const signOut = () => {
    forgetKey();
    setSignedIn(false);
    navigate("/");
  };
  return signedIn ? html`<${Console} onSignOut=${signOut} />` : html`<${SignIn} onSignedIn=${() => setSignedIn(true)} />`;
}

render(html`<${App} />`, document.getElementById("app")!);

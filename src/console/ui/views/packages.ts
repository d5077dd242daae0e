// Packages: the namespace's own (bindings among them) and those another
// namespace shares (e.g. /whisk.system), each with its actions and feeds.
import { html } from "htm/preact";
import { useState } from "preact/hooks";
import { call, entityPath, ns } from "../api.js";
import { ErrorBox, Json, Loading, time, useLoad } from "../common.js";
import { href, navigate } from "../router.js";
import type { KeyValue } from "../../model/records.js";
import { ParametersForm } from "./entity-form.js";

interface Brief {
  namespace: string;
  name: string;
  version: string;
  publish?: boolean;
  binding?: { namespace: string; name: string } | Record<string, never> | boolean;
  updated?: number;
}

interface Package extends Brief {
  parameters?: KeyValue[];
  annotations?: KeyValue[];
  actions?: { name: string; version: string; annotations?: KeyValue[] }[];
  feeds?: { name: string }[];
}

const boundTo = (p: Brief) => (p.binding && typeof p.binding === "object" && "name" in p.binding ? p.binding : undefined);

function PackageTable({ list, shared }: { list: Brief[]; shared?: boolean }) {
  if (list.length === 0) return html`<p class="muted">None.</p>`;
  return html`<table data-testid=${shared ? "shared-packages" : "package-list"}>
    <thead><tr><th>name</th><th>binding</th><th>shared</th><th>version</th><th>updated</th></tr></thead>
    <tbody>${list.map((p) => {
      const bound = boundTo(p);
      const route = shared ? `${p.namespace}/${p.name}` : p.name;
      return html`<tr><td><a href=${href("packages", route)}>${shared ? `/${p.namespace}/${p.name}` : p.name}</a></td>
        <td>${bound ? html`<a href=${href("packages", `${bound.namespace}/${bound.name}`)}>/${bound.namespace}/${bound.name}</a>` : ""}</td>
        <td>${p.publish ? "yes" : ""}</td><td>${p.version}</td><td>${time(p.updated)}</td></tr>`;
    })}</tbody></table>`;
}

export function PackageList({ namespace }: { namespace: string }) {
  const own = useLoad(() => call<Brief[]>("GET", ns("packages?limit=200")), []);
  const [other, setOther] = useState("whisk.system");
  const shared = useLoad(() => call<Brief[]>("GET", `/api/v1/namespaces/${encodeURIComponent(other)}/packages?limit=200`), [other]);
  return html`
    <h1>Packages</h1>
    <${Loading} loaded=${own}>${(list: Brief[]) => html`<${PackageTable} list=${list} />`}<//>
    <h2>Shared by
      <input class="inline" value=${other} onChange=${(e: Event) => setOther((e.target as HTMLInputElement).value.trim() || "whisk.system")} /></h2>
    ${other === namespace ? html`<p class="muted">That is your own namespace.</p>` : html`<${Loading} loaded=${shared}>${(list: Brief[]) => html`<${PackageTable} list=${list.filter((p) => p.publish !== false)} shared />`}<//>`}
  `;
}

function BindForm({ target }: { target: { namespace: string; name: string } }) {
  const [name, setName] = useState("");
  const [error, setError] = useState<string>();
  const bind = async (e: Event) => {
    e.preventDefault();
    try {
      await call("PUT", ns(`packages/${encodeURIComponent(name.trim())}?overwrite=false`), { binding: target });
      navigate(href("packages", name.trim()).slice(1));
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return html`<form class="inline-form" onSubmit=${bind}>
    <label>Bind into your namespace as <input value=${name} placeholder="binding name" onInput=${(e: Event) => setName((e.target as HTMLInputElement).value)} /></label>
    <button type="submit">Create binding</button><${ErrorBox} error=${error} /></form>`;
}

export function PackagePage({ name }: { name: string }) {
  const foreign = name.includes("/");
  const path = foreign ? `/api/v1/namespaces/${entityPath(name.split("/")[0])}/packages/${encodeURIComponent(name.split("/")[1])}` : ns(`packages/${encodeURIComponent(name)}`);
  const pkg = useLoad(() => call<Package>("GET", path), [path]);
  return html`<${Loading} loaded=${pkg}>${(p: Package) => {
    const bound = boundTo(p);
    const actionPrefix = foreign ? `/${p.namespace}/${p.name}` : p.name;
    return html`
      <h1>Package <span data-testid="package-name">${foreign ? `/${p.namespace}/${p.name}` : p.name}</span></h1>
      <p class="muted">version ${p.version}, updated ${time(p.updated)}${p.publish ? ", shared" : ""}</p>
      ${bound && html`<p data-testid="package-binding">Binding to <a href=${href("packages", `${bound.namespace}/${bound.name}`)}>/${bound.namespace}/${bound.name}</a></p>`}
      <h2>Actions</h2>
      ${(p.actions ?? []).length
        ? html`<ul>${p.actions!.map((a) => html`<li>${foreign ? `${actionPrefix}/${a.name}` : html`<a href=${href("actions", `${p.name}/${a.name}`)}>${p.name}/${a.name}</a>`}</li>`)}</ul>`
        : html`<p class="muted">${bound ? "A binding lists its package's actions there." : "None."}</p>`}
      ${(p.feeds ?? []).length ? html`<h2>Feeds</h2><ul>${p.feeds!.map((f) => html`<li>${actionPrefix}/${f.name}</li>`)}</ul>` : null}
      ${foreign ? html`<h2>Parameters</h2><${Json} value=${p.parameters ?? []} /><${BindForm} target=${{ namespace: p.namespace, name: p.name }} />` : html`<h2>Edit</h2><${ParametersForm} entity=${p} path=${path} extra=${bound ? { binding: bound } : undefined} onSaved=${pkg.reload} />`}
    `;
  }}<//>`;
}

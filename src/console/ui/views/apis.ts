// APIs made with `wsk api create`: read through the same API management web
// action the CLI calls (getApi), with each route's URL.
import { html } from "htm/preact";
import { call } from "../api.js";
import { Loading, useLoad } from "../common.js";

interface ApiDescription {
  gwApiUrl: string;
  apidoc: {
    basePath: string;
    info?: { title?: string };
    paths: Record<string, Record<string, { operationId?: string; "x-openwhisk"?: { namespace?: string; package?: string; action?: string; url?: string } }>>;
  };
}

export async function listApis(): Promise<ApiDescription[]> {
  const answer = await call<{ apis: { value: ApiDescription }[] }>("GET", "/api/v1/web/whisk.system/apimgmt/getApi.http");
  return answer.apis.map((a) => a.value);
}

export function ApiList() {
  const apis = useLoad(listApis, []);
  return html`
    <h1>APIs</h1>
    <${Loading} loaded=${apis}>${(list: ApiDescription[]) =>
      list.length === 0
        ? html`<p class="muted">No APIs yet (wsk api create).</p>`
        : list.map(
            (api) => html`<section class="panel">
              <h2>${api.apidoc.basePath} <span class="muted">${api.apidoc.info?.title ?? ""}</span></h2>
              <table data-testid="api-routes"><thead><tr><th>method</th><th>path</th><th>action</th><th>URL</th></tr></thead><tbody>
                ${Object.entries(api.apidoc.paths).flatMap(([relpath, operations]) =>
                  Object.entries(operations).map(([method, op]) => {
                    const target = op["x-openwhisk"];
                    const url = `${api.gwApiUrl}${relpath}`;
                    return html`<tr><td>${method.toUpperCase()}</td><td>${relpath}</td>
                      <td>${target ? `/${target.namespace}/${target.package && target.package !== "default" ? target.package + "/" : ""}${target.action}` : ""}</td>
                      <td><a href=${url} target="_blank" rel="noopener noreferrer">${url}</a></td></tr>`;
                  }),
                )}
              </tbody></table></section>`,
          )}
    <//>
  `;
}

// Hash routes (#/actions/pkg/name): the server serves one page, and a route
// never reaches it (nor its logs) in a request.
import { useEffect, useState } from "preact/hooks";

export interface Route {
  /** The first segment: "", "actions", "activations", ... */
  view: string;
  /** The rest, decoded (an entity name may hold a package and a slash). */
  rest: string;
  params: URLSearchParams;
}

export function parseRoute(hash: string): Route {
  const [path, search = ""] = hash.replace(/^#\/?/, "").split("?");
  const [view = "", ...rest] = path.split("/");
  return { view, rest: rest.map(decodeURIComponent).join("/"), params: new URLSearchParams(search) };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(location.hash));
    addEventListener("hashchange", onChange);
    return () => removeEventListener("hashchange", onChange);
  }, []);
  return route;
}

export function navigate(path: string): void {
  location.hash = path;
}

/** An href for an entity page: `#/actions/pkg/name`. */
export const href = (view: string, name = "") => `#/${view}${name ? "/" + name.split("/").map(encodeURIComponent).join("/") : ""}`;

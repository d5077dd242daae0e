// /namespaces: the namespaces a key may use (OpenWhisk keys own exactly one).
import { Hono } from "hono";
import type { ApiEnv } from "./context.js";

export const namespaceRoutes = new Hono<ApiEnv>().get("/", (c) => c.json([c.get("identity").namespace]));

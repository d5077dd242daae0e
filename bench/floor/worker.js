// The floor for bench/invoke.mjs: a plain Worker answering the JSON a warm
// hello action returns, served by wrangler dev exactly like edgewhisk.
export default {
  async fetch(request) {
    if (request.method === "POST") await request.text();
    return Response.json({ payload: "Hello, World!" });
  },
};

// /whisk.system/utils: the building blocks a stock development install
// offers, written for edgewhisk with the same parameters and results.

export const utilsActions: Record<string, { description: string; code: string }> = {
  echo: {
    description: "Returns the input",
    code: `function main(params) {
  return params || {};
}
`,
  },
  cat: {
    description: "Concatenates input into a string",
    code: `function main(params) {
  const lines = params.lines || [];
  const result = { lines, payload: lines.join("\\n") };
  console.log("cat: returning " + JSON.stringify(result));
  return result;
}
`,
  },
  head: {
    description: "Extract prefix of an array",
    code: `function main(params) {
  const lines = params.lines || [];
  const num = params.num || 1;
  return { lines: lines.slice(0, num), num };
}
`,
  },
  sort: {
    description: "Sorts an array",
    code: `function main(params) {
  const lines = params.lines || [];
  lines.sort();
  return { lines, length: lines.length };
}
`,
  },
  split: {
    description: "Split a string into an array",
    code: `function main(params) {
  const separator = params.separator || /\\r?\\n/;
  const lines = params.payload.toString().split(separator);
  return { lines, payload: params.payload };
}
`,
  },
  smash: {
    description: "Nests all properties under given property",
    code: `function main(params) {
  const field = params.$fieldName;
  if (typeof field !== "string") return { error: "Expected an argument '$fieldName' of type 'string'." };
  const rest = Object.assign({}, params);
  delete rest.$fieldName;
  return { [field]: rest };
}
`,
  },
  date: {
    description: "Current date and time",
    code: `function main() {
  const now = new Date();
  console.log("It is now " + now);
  return { date: now };
}
`,
  },
  namespace: {
    description: "Returns namespace for the authorization key used to invoke this action",
    code: `function main() {
  return { namespace: process.env.__OW_NAMESPACE };
}
`,
  },
  hosturl: {
    description: "Returns the URL to activate an action or trigger",
    code: `function main(args) {
  const host = process.env.__OW_API_HOST;
  const namespace = process.env.__OW_NAMESPACE;
  const extensions = [".html", ".http", ".json", ".svg", ".text"];
  if (args.web === true && args.trigger) return { error: "triggers are not allowed for web actions." };
  if (args.web === true && args.ext && !extensions.includes(args.ext)) {
    return { error: 'extension for web action must be one of [".html", ".http", ".json", ".svg", ".text"].' };
  }
  if (args.web !== true && args.trigger && args.path && args.path.includes("/")) {
    return { error: "triggers are not allowed in packages." };
  }
  const base = args.web === true
    ? host + "/api/v1/web/" + namespace
    : host + "/api/v1/namespaces/" + namespace + "/" + (args.trigger === true ? "triggers" : "actions");
  if (!args.path) return { url: base };
  const path = args.web === true && !args.path.includes("/") ? "default/" + args.path : args.path;
  return { url: base + "/" + path + (args.web === true ? args.ext || "" : "") };
}
`,
  },
};

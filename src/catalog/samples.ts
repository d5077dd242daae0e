// /whisk.system/samples: the getting-started actions OpenWhisk's catalog
// installs (its JavaScript ones), written for edgewhisk with the same
// parameters, results and log lines.

export const samplesActions: Record<string, { description: string; code: string; annotations?: { key: string; value: unknown }[] }> = {
  greeting: {
    description: "Returns a friendly greeting",
    code: `function main(params) {
  console.log("params:", params);
  const name = params.name || params.payload || "stranger";
  const place = params.place || "somewhere";
  return { payload: "Hello, " + name + " from " + place + "!" };
}
`,
  },
  helloWorld: {
    description: "Demonstrates logging facilities",
    code: `function main(params) {
  console.log("hello", params.payload + "!");
}
`,
  },
  wordCount: {
    description: "Count words in a string",
    code: `function main(params) {
  const text = params.payload.toString();
  const count = text.split(" ").length;
  console.log("The message '" + text + "' has", count, "words");
  return { count };
}
`,
  },
  wordCountAsync: {
    description: "word count utility, coded as an asynchronous action for pedagogical purposes",
    code: `function main(params) {
  return new Promise((resolve) => {
    setTimeout(() => {
      const text = params.payload.toString();
      const count = text.split(" ").length;
      console.log("The message '" + text + "' has", count, "words");
      resolve({ count });
    }, 100);
  });
}
`,
  },
  printParams: {
    description: "print the parameters to the console, sorted alphabetically by key",
    code: `function main(params) {
  const sorted = {};
  Object.keys(params).sort().forEach((key, i) => {
    console.log((i ? " " : "") + "params." + key + ":", params[key]);
    sorted[key] = params[key];
  });
  return { params: sorted };
}
`,
  },
  helloPromises: {
    description: "Return a hello message as an array of strings which demonstrates the use of returning a Promise for asynchronous actions.",
    annotations: [{ key: "provide-api-key", value: true }],
    code: `const openwhisk = require("openwhisk");

function main(params) {
  return openwhisk()
    .actions.invoke({ actionName: "/whisk.system/samples/greeting", params: { name: params.name, place: params.place }, blocking: true })
    .then((activation) => {
      console.log("activation:", activation);
      return { lines: activation.response.result.payload.toString().split(" ") };
    });
}
`,
  },
  countdown: {
    description: "An action that invokes itself recursively, programmatically using whisk API",
    annotations: [{ key: "provide-api-key", value: true }],
    code: `const openwhisk = require("openwhisk");

function main(params) {
  const n = parseInt(params.n);
  console.log(n);
  if (n === 0) console.log("Happy New Year!");
  else if (n > 0) return openwhisk().actions.invoke({ actionName: process.env.__OW_ACTION_NAME, params: { n: n - 1 } });
}
`,
  },
  curl: {
    description: "Curl a host url",
    code: `async function main(params) {
  const target = String(params.payload);
  console.log("Curl to " + target);
  try {
    const response = await fetch(/^[a-z]+:\\/\\//i.test(target) ? target : "http://" + target, { signal: AbortSignal.timeout(3000) });
    const msg = await response.text();
    console.log(msg);
    return { msg };
  } catch (err) {
    const msg = "curl: " + err.message;
    console.log(msg);
    return { msg };
  }
}
`,
  },
};

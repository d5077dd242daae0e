// /whisk.system/alarms: feed actions that hand each lifecycle event to the
// platform's alarm provider (/api/v1/feeds/alarms/{kind}), authenticated with
// the trigger owner's key, as the stock alarms package does with its own
// provider service.

function feedCode(kind: string): string {
  return `async function main(params) {
  if (!params.authKey) return { error: "no authKey parameter was provided" };
  if (!params.triggerName) return { error: "no trigger name parameter was provided" };
  const response = await fetch(process.env.__OW_API_HOST + "/api/v1/feeds/alarms/${kind}", {
    method: "POST",
    headers: { authorization: "Basic " + btoa(params.authKey), "content-type": "application/json" },
    body: JSON.stringify(params),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) return { error: body.error || "the alarm provider answered " + response.status };
  return body;
}
`;
}

export const alarmsActions: Record<string, { description: string; code: string }> = {
  alarm: { description: "Fire trigger when alarm occurs (cron schedule)", code: feedCode("alarm") },
  once: { description: "Fire trigger once when alarm occurs", code: feedCode("once") },
  interval: { description: "Fire trigger at specified interval", code: feedCode("interval") },
};

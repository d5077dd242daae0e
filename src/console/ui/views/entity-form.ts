// Parameters and annotations of a package or trigger, saved with a PUT that
// overwrites (the entity's other fields go along unchanged).
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { call } from "../api.js";
import { ErrorBox, JsonArea, keyValuesToText, textToKeyValues } from "../common.js";
import type { KeyValue } from "../../model/records.js";

export interface Editable {
  version: string;
  publish?: boolean;
  parameters?: KeyValue[];
  annotations?: KeyValue[];
}

export function ParametersForm({ entity, path, extra, onSaved }: { entity: Editable; path: string; extra?: Record<string, unknown>; onSaved: () => void }) {
  const [parameters, setParameters] = useState(keyValuesToText(entity.parameters));
  const [annotations, setAnnotations] = useState(keyValuesToText(entity.annotations));
  const [publish, setPublish] = useState(Boolean(entity.publish));
  const [error, setError] = useState<string>();
  const [saved, setSaved] = useState<string>();
  useEffect(() => {
    setParameters(keyValuesToText(entity.parameters));
    setAnnotations(keyValuesToText(entity.annotations));
    setPublish(Boolean(entity.publish));
  }, [entity]);
  const save = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    setSaved(undefined);
    try {
      const body = { ...extra, publish, parameters: textToKeyValues(parameters, "Parameters"), annotations: textToKeyValues(annotations, "Annotations") };
      const answer = await call<{ version: string }>("PUT", `${path}?overwrite=true`, body);
      setSaved(`Saved version ${answer.version}.`);
      onSaved();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return html`
    <form class="grid" onSubmit=${save}>
      <${JsonArea} label="Parameters" testid="entity-parameters" value=${parameters} onInput=${setParameters} />
      <${JsonArea} label="Annotations" testid="entity-annotations" value=${annotations} onInput=${setAnnotations} />
      <label class="check wide"><input type="checkbox" checked=${publish} onChange=${(e: Event) => setPublish((e.target as HTMLInputElement).checked)} /> Shared (publish)</label>
      <div class="wide buttons"><button type="submit" data-testid="save-entity">Save</button> <span class="ok">${saved ?? ""}</span></div>
      <div class="wide"><${ErrorBox} error=${error} /></div>
    </form>
  `;
}

// An action's code in CodeMirror 6, highlighted as JavaScript or Python by
// the action's kind. The editor lives in a shadow root: there CodeMirror's
// styles are constructed style sheets, which the console's CSP
// (style-src 'self') allows, where in the document they would be an inline
// <style> element it refuses.
import { html } from "htm/preact";
import { useEffect, useRef } from "preact/hooks";
import { basicSetup, EditorView } from "codemirror";
import { Compartment } from "@codemirror/state";
import { javascript } from "@codemirror/lang-javascript";
import { python } from "@codemirror/lang-python";

const SIZE = EditorView.theme({
  "&": { minHeight: "220px", maxHeight: "520px", fontSize: "13px" },
  ".cm-scroller": { overflow: "auto", fontFamily: "ui-monospace, SFMono-Regular, Menlo, monospace" },
});

const languageOf = (kind: string) => (kind.startsWith("python") ? python() : javascript());

export function CodeEditor({ code, kind, onChange, readOnly = false }: { code: string; kind: string; onChange: (code: string) => void; readOnly?: boolean }) {
  const box = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | undefined>(undefined);
  const language = useRef(new Compartment());
  const changed = useRef(onChange);
  changed.current = onChange;

  useEffect(() => {
    const root = box.current!.shadowRoot ?? box.current!.attachShadow({ mode: "open" });
    view.current = new EditorView({
      doc: code,
      root,
      parent: root,
      extensions: [
        basicSetup,
        SIZE,
        language.current.of(languageOf(kind)),
        EditorView.editable.of(!readOnly),
        EditorView.updateListener.of((update) => {
          if (update.docChanged) changed.current(update.state.doc.toString());
        }),
      ],
    });
    return () => view.current?.destroy();
  }, []);

  useEffect(() => {
    view.current?.dispatch({ effects: language.current.reconfigure(languageOf(kind)) });
  }, [kind]);

  // A new code from outside (another action loaded) replaces the document.
  useEffect(() => {
    const current = view.current;
    if (current && current.state.doc.toString() !== code) {
      current.dispatch({ changes: { from: 0, to: current.state.doc.length, insert: code } });
    }
  }, [code]);

  return html`<div class="editor" data-testid="code-editor" data-language=${kind.startsWith("python") ? "python" : "javascript"} ref=${box}></div>`;
}

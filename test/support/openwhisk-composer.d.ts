// The parts of openwhisk-composer (a CommonJS package without types) the tests use.
declare module "openwhisk-composer" {
  type Task = Composition | string | ((params: any) => unknown) | null;
  export interface Composition {
    /** The composition as JSON, with the actions it defines: what `deploy` takes. */
    compile(): { composition: object; ast: object; version: string; actions?: object[] };
  }
  interface Composer {
    action(name: string, options?: { action?: string | ((params: any) => unknown) }): Composition;
    function(fn: ((params: any) => unknown) | string): Composition;
    sequence(...components: Task[]): Composition;
    seq(...components: Task[]): Composition;
    if(test: Task, consequent: Task, alternate?: Task): Composition;
    while(test: Task, body: Task): Composition;
    try(body: Task, handler: Task): Composition;
    finally(body: Task, finalizer: Task): Composition;
    retry(count: number, ...components: Task[]): Composition;
    repeat(count: number, ...components: Task[]): Composition;
    let(declarations: Record<string, unknown>, ...components: Task[]): Composition;
    literal(value: unknown): Composition;
  }
  const composer: Composer;
  export default composer;
}

declare module "openwhisk-composer/conductor.js" {
  /** The conductor action composer deploys for a compiled composition. */
  export function generate(compiled: object): { name: string; action: { exec: { kind: string; code: string }; annotations: object[] } };
}

declare module "openwhisk-composer/client.js" {
  import type { Client } from "openwhisk";
  /** The openwhisk client with `compositions.deploy`, which creates a composition's conductor action. */
  /** `basic`: authenticate with the key, even when ~/.wskprops names a namespace. */
  function client(options: { apihost: string; api_key: string }, basic?: boolean): Client & {
    compositions: { deploy(composition: object, overwrite?: boolean): Promise<object[]> };
  };
  export default client;
}

// Loaded into an action isolate, before the runner, on hosts whose runtime
// refuses code generation from strings once an isolate has started
// (src/invoker/code-generation.ts). workerd still allows eval and new
// Function while an isolate starts, so the function sources found as string
// literals in the action's code (src/runtime/function-literals.ts) are
// compiled here, then; at run time the shimmed eval and Function hand back
// those compiled functions for exactly those strings. Any other string goes
// to the runtime's own eval/Function, which throws its own EvalError.
//
// Plain JavaScript: it ships as source text, like runner.js.

const RealFunction = Function;
const realEval = globalThis.eval;

// openwhisk-composer's conductor (every release, 0.9 to 0.12) runs each
// function combinator by evaluating this text around the function's source,
// with one `var` per variable its `let` combinators put in scope:
//   (function(){try{const require=arguments[2];var x=arguments[1]['x'];
//   return eval((function(){return(SOURCE)})())(arguments[0])}finally{
//   arguments[1]['x']=x;}})
const STEP_HEAD = "(function(){try{const require=arguments[2];";
const STEP_CALL = "return eval((function(){return(";
const STEP_AFTER_SOURCE = ")})())(arguments[0])}finally{";
const STEP_END = "}})";
const STEP_VARIABLE = /var ([A-Za-z_$][\w$]*)=arguments\[1\]\['\1'\];/y;

/**
 * `sources.expressions`: function sources as eval may be handed them;
 * `sources.functionCalls`: argument lists `new Function` may be called with.
 * A source that does not compile stays unknown (its eval throws as before).
 */
export function installPrecompiledEval(sources) {
  // Each source compiles to a factory that evaluates it afresh in a scope
  // (an object whose properties are variables to it, as composer's vars are),
  // so every eval returns a new function, as eval does.
  const factories = new Map();
  for (const source of sources.expressions ?? []) {
    try {
      factories.set(source, new RealFunction("__edgewhisk_scope", `with (__edgewhisk_scope) return (${source}\n);`));
    } catch {
      // not a source this runtime compiles: unknown
    }
  }
  const constructed = new Map();
  for (const args of sources.functionCalls ?? []) {
    try {
      // Function checks the parameters and body apart; its text is then one function expression.
      const text = Reflect.apply(RealFunction, undefined, args).toString();
      constructed.set(JSON.stringify(args), new RealFunction(`return (${text}\n);`));
    } catch {
      // unknown
    }
  }

  const emptyScope = () => Object.create(null);

  /** A function standing for composer's step text, or undefined when `text` is not one around a known source. */
  function conductorStep(text) {
    if (!text.startsWith(STEP_HEAD) || !text.endsWith(STEP_END)) return undefined;
    const names = [];
    let at = STEP_HEAD.length;
    STEP_VARIABLE.lastIndex = at;
    for (let match; (match = STEP_VARIABLE.exec(text)); at = STEP_VARIABLE.lastIndex) names.push(match[1]);
    if (!text.startsWith(STEP_CALL, at) || names.includes("require")) return undefined;
    const tail = STEP_AFTER_SOURCE + names.map((name) => `arguments[1]['${name}']=${name};`).join("") + STEP_END;
    if (!text.endsWith(tail) || text.length - tail.length < at + STEP_CALL.length) return undefined;
    const factory = factories.get(text.slice(at + STEP_CALL.length, text.length - tail.length));
    if (!factory) return undefined;
    // What the text evaluates to: call the function with params, its
    // variables read from env before and written back after.
    return function (params, env, require) {
      const scope = emptyScope();
      scope.require = require;
      for (const name of names) scope[name] = env[name];
      try {
        return shim.eval(factory(scope))(params);
      } finally {
        for (const name of names) env[name] = scope[name];
      }
    };
  }

  const shim = {
    eval(x) {
      if (typeof x !== "string") return x;
      const factory = factories.get(x);
      if (factory) return factory(emptyScope());
      return conductorStep(x) ?? realEval(x);
    },
  };

  function FunctionShim(...args) {
    const factory = constructed.get(JSON.stringify(args.map(String)));
    return factory ? factory() : Reflect.construct(RealFunction, args);
  }
  // `f instanceof Function` still holds for every function.
  Object.defineProperty(FunctionShim, "name", { value: "Function" });
  Object.defineProperty(FunctionShim, "length", { value: 1 });
  Object.defineProperty(FunctionShim, "prototype", { value: RealFunction.prototype, writable: false });

  if (factories.size) globalThis.eval = shim.eval;
  if (constructed.size) globalThis.Function = FunctionShim;
}

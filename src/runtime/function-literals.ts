// Finding the function sources an action's code carries as string literals,
// for hosts that refuse code generation at run time
// (src/invoker/code-generation.ts): openwhisk-composer's conductor keeps each
// function combinator's source in its composition and evals it per step.
// The code is only read here (acorn's tokenizer), never evaluated: whatever
// is found is compiled later inside the action's own isolate.
//
// Tokens, not a syntax tree: they take a fraction of the time and no memory
// beyond the token at hand. Should the tokenizer misread some code (a `/`
// it takes for a regular expression), a literal is missed (its eval is
// refused as before) or a bogus one is compiled into the action's own
// isolate, where it is never used; neither reaches anything else.
import { parse, tokenizer, tokTypes, type Program, type Token as AcornToken } from "acorn";

/** A token as the tokenizer yields it: acorn's types leave out its value (a string's text, a name). */
type Token = AcornToken & { value?: unknown };

export interface FunctionLiterals {
  /** String literals that are exactly one function, arrow or class expression: what eval may be handed. */
  expressions: string[];
  /** The arguments of `Function(...)` / `new Function(...)` calls made only of string literals. */
  functionCalls: string[][];
}

/**
 * Code past this size is not searched: the search runs in the invoker (on
 * Cloudflare the action's own Durable Object) when an isolate is built. A
 * conductor is its composition as indented JSON plus ~10 kB: 50 `if`s
 * around `retry`s make 1.2 MB.
 */
export const MAX_SEARCHED_CODE_CHARS = 4_000_000;
/** At most this many sources are compiled into one isolate. */
const MAX_SOURCES = 2_000;

/**
 * Only code that calls eval or Function is read at all (`eval(`, `(0, eval)(`,
 * `Function(`): large bundles name Function often (`Function.prototype`)
 * but rarely call it, and reading one costs its cold start: the 690 kB
 * openwhisk bundle took 185 ms (a busy two-core machine, November 2026).
 */
const GENERATES_CODE = /\beval\s*\)?\s*\(|\bFunction\s*\(/;
/** A cheap first look at a literal before parsing it. */
const MAY_BE_FUNCTION = /=>|\bfunction\b|\bclass\b/;

const FUNCTION_NODES = new Set(["FunctionExpression", "ArrowFunctionExpression", "ClassExpression"]);

/**
 * True when `text`, wrapped in parentheses, is one function, arrow or class
 * expression and nothing else: so it cannot close the parentheses it is
 * compiled in and add code beside them.
 */
export function isFunctionSource(text: string): boolean {
  if (!MAY_BE_FUNCTION.test(text)) return false;
  let program: Program;
  try {
    program = parse(`(${text}\n)`, { ecmaVersion: "latest", sourceType: "script" });
  } catch {
    return false;
  }
  const [statement] = program.body;
  if (program.body.length !== 1 || statement?.type !== "ExpressionStatement") return false;
  const { expression } = statement;
  return FUNCTION_NODES.has(expression.type) && expression.start >= 1 && expression.end <= text.length + 1;
}

/** What `new Function(...args)` compiles, checked as one function expression. */
function isFunctionConstructorSource(args: readonly string[]): boolean {
  const params = args.slice(0, -1).join(",");
  const body = args.at(-1) ?? "";
  return isFunctionSource(`function anonymous(${params}\n) {\n${body}\n}`);
}

/** The global `Function`, not a property named so (`x.Function`). */
const isFunctionName = (token: Token, previous: Token | undefined) =>
  token.type === tokTypes.name && token.value === "Function" && previous?.type !== tokTypes.dot && previous?.type !== tokTypes.questionDot;

/**
 * Reads `Function(` followed by string literals and `)` off the token
 * stream, one token at a time: the arguments when a call of only string
 * literals closes, else undefined.
 */
class FunctionCallReader {
  /** Not in a call; `Function` read; or the arguments read so far. */
  private state: undefined | "name" | string[];
  private expectingArgument = false;

  next(token: Token, previous: Token | undefined): string[] | undefined {
    const { state } = this;
    this.state = undefined;
    if (state === "name" && token.type === tokTypes.parenL) {
      this.state = [];
      this.expectingArgument = true;
    } else if (Array.isArray(state) && this.expectingArgument && token.type === tokTypes.string) {
      state.push(token.value as string);
      this.state = state;
      this.expectingArgument = false;
    } else if (Array.isArray(state) && !this.expectingArgument && token.type === tokTypes.comma) {
      this.state = state;
      this.expectingArgument = true;
    } else if (Array.isArray(state) && token.type === tokTypes.parenR) {
      return state;
    } else if (isFunctionName(token, previous)) {
      this.state = "name";
    }
    return undefined;
  }
}

const NONE: FunctionLiterals = { expressions: [], functionCalls: [] };

/**
 * The function sources `code` carries as literals. Code that does not call
 * eval or Function, is too large, or does not tokenize yields none.
 */
export function findFunctionLiterals(code: string): FunctionLiterals {
  if (code.length > MAX_SEARCHED_CODE_CHARS || !GENERATES_CODE.test(code)) return NONE;
  const expressions = new Set<string>();
  /** Every literal looked at, function or not: a composition repeats its keys many times. */
  const checked = new Set<string>();
  const calls = new Map<string, string[]>();
  const reader = new FunctionCallReader();
  // The last two tokens: a template is whole when a backquote, it, and a backquote follow each other.
  let previous: Token | undefined;
  let beforePrevious: Token | undefined;
  try {
    for (const token of tokenizer(code, { ecmaVersion: "latest", allowHashBang: true }) as Iterable<Token>) {
      if (expressions.size + calls.size >= MAX_SOURCES) break;
      const args = reader.next(token, previous);
      // An empty body is how libraries probe whether code generation works
      // (`new Function("")`): telling them yes would lead them on to strings built at run time.
      if (args && (args.at(-1) ?? "").trim() !== "" && isFunctionConstructorSource(args)) calls.set(JSON.stringify(args), args);
      let text: string | undefined;
      if (token.type === tokTypes.string) text = token.value as string;
      else if (token.type === tokTypes.backQuote && previous?.type === tokTypes.template && beforePrevious?.type === tokTypes.backQuote) {
        text = (previous.value as string | null) ?? undefined;
      }
      if (text !== undefined && !checked.has(text)) {
        checked.add(text);
        if (isFunctionSource(text)) expressions.add(text);
      }
      beforePrevious = previous;
      previous = token;
    }
  } catch {
    return NONE;
  }
  return { expressions: [...expressions], functionCalls: [...calls.values()] };
}

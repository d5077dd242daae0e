// Finding the function sources an action's code carries as string literals,
// for hosts that refuse code generation at run time
// (src/invoker/code-generation.ts): openwhisk-composer's conductor keeps each
// function combinator's source in its composition and evals it per step.
// The code is only parsed here (acorn), never evaluated: whatever is found
// is compiled later inside the action's own isolate.
import { parse, type Node, type Options, type Program } from "acorn";

export interface FunctionLiterals {
  /** String literals that are exactly one function, arrow or class expression: what eval may be handed. */
  expressions: string[];
  /** The arguments of `Function(...)` / `new Function(...)` calls made only of string literals. */
  functionCalls: string[][];
}

/**
 * Code past this size is not searched: the search builds a syntax tree of
 * the whole code in the invoker (on Cloudflare a Durable Object with 128 MB),
 * and a conductor with its composition is a few tens of kB.
 */
export const MAX_SEARCHED_CODE_CHARS = 1_000_000;
/** At most this many sources are compiled into one isolate. */
const MAX_SOURCES = 2_000;

/** Only code that names eval or Function is parsed at all. */
const GENERATES_CODE = /\b(eval|Function)\b/;
/** A cheap first look at a literal before parsing it. */
const MAY_BE_FUNCTION = /=>|\bfunction\b|\bclass\b/;

const PARSE: Options = { ecmaVersion: "latest", allowHashBang: true, allowReturnOutsideFunction: true };
const FUNCTION_NODES = new Set(["FunctionExpression", "ArrowFunctionExpression", "ClassExpression"]);

function parseProgram(code: string): Program | undefined {
  for (const sourceType of ["script", "module"] as const) {
    try {
      return parse(code, { ...PARSE, sourceType, allowReturnOutsideFunction: sourceType === "script" });
    } catch {
      // the other source type, or not JavaScript acorn reads: nothing found
    }
  }
  return undefined;
}

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

/** The string a literal node stands for: a string literal, or a template without substitutions. */
function stringValue(node: Node | null | undefined): string | undefined {
  if (!node) return undefined;
  if (node.type === "Literal") {
    const { value } = node as unknown as { value: unknown };
    return typeof value === "string" ? value : undefined;
  }
  if (node.type === "TemplateLiteral") {
    const template = node as unknown as { expressions: unknown[]; quasis: { value: { cooked?: string | null } }[] };
    if (template.expressions.length === 0) return template.quasis[0]?.value.cooked ?? undefined;
  }
  return undefined;
}

function isFunctionCall(node: Node): node is Node & { callee: Node; arguments: Node[] } {
  if (node.type !== "CallExpression" && node.type !== "NewExpression") return false;
  const { callee } = node as unknown as { callee: Node & { name?: string } };
  return callee.type === "Identifier" && callee.name === "Function";
}

/** Every node of the tree, without recursion (deeply nested code must not overflow the stack). */
function* nodes(root: Node): Generator<Node> {
  const stack: unknown[] = [root];
  while (stack.length) {
    const value = stack.pop();
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push(value[i]);
      continue;
    }
    if (value === null || typeof value !== "object" || typeof (value as Node).type !== "string") continue;
    const node = value as Node;
    yield node;
    for (const [key, child] of Object.entries(node)) {
      if (key !== "loc" && child !== null && typeof child === "object") stack.push(child);
    }
  }
}

const NONE: FunctionLiterals = { expressions: [], functionCalls: [] };

/**
 * The function sources `code` carries as literals. Code that does not name
 * eval or Function, is too large, or does not parse yields none.
 */
export function findFunctionLiterals(code: string): FunctionLiterals {
  if (code.length > MAX_SEARCHED_CODE_CHARS || !GENERATES_CODE.test(code)) return NONE;
  const program = parseProgram(code);
  if (!program) return NONE;
  const expressions = new Set<string>();
  const calls = new Map<string, string[]>();
  for (const node of nodes(program)) {
    if (expressions.size + calls.size >= MAX_SOURCES) break;
    if (isFunctionCall(node)) {
      const args = node.arguments.map(stringValue);
      if (args.every((arg): arg is string => arg !== undefined) && isFunctionConstructorSource(args)) {
        calls.set(JSON.stringify(args), args);
      }
      continue;
    }
    const text = stringValue(node);
    if (text !== undefined && !expressions.has(text) && isFunctionSource(text)) expressions.add(text);
  }
  return { expressions: [...expressions], functionCalls: [...calls.values()] };
}

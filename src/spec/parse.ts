import type { z } from "zod";
import { majority, redisSentinelSpecSchema, type RedisSentinelConfig } from "./schema";
import { DEFAULT_APP_USER, DEFAULT_APP_USER_RULES, DEFAULT_REPLICA_PRIORITY } from "./defaults";
import { isObject } from "./values";

/** One thing wrong with a spec: where, what was given, and what to do instead. */
export interface SpecProblem {
  /** Dotted field path, such as `sentinel.quorum` or `topology.replicaPriority[1]`. */
  readonly path: string;
  /** The value given there, as text; `(hidden)` under `auth` and for ACL rules that hold a password. */
  readonly value: string;
  /** What is wrong and how to fix it. */
  readonly message: string;
}

/** Thrown for an invalid spec. Its message lists every problem, one a line. */
export class SpecError extends Error {
  constructor(readonly problems: readonly SpecProblem[]) {
    super(
      `Invalid Redis Sentinel spec (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
        problems.map((p) => `  - ${p.path} = ${p.value}: ${p.message}`).join("\n"),
    );
    this.name = "SpecError";
  }
}

/**
 * Validates a spec and applies every default. Throws one `SpecError` that lists every problem.
 *
 * @example
 * const config = parseSpec({ auth: { secrets: { source: "env", prefix: "REDIS_HA_" } } });
 * config.sentinel.quorum; // 2
 */
export function parseSpec(input: unknown): RedisSentinelConfig {
  const result = redisSentinelSpecSchema.safeParse(input, { reportInput: true });
  if (!result.success) throw new SpecError(toProblems(result.error.issues));
  const spec = result.data;
  const n = spec.topology.nodeCount;
  return {
    ...spec,
    topology: {
      ...spec.topology,
      replicaPriority: spec.topology.replicaPriority ?? Array.from({ length: n }, () => DEFAULT_REPLICA_PRIORITY),
    },
    sentinel: { ...spec.sentinel, quorum: spec.sentinel.quorum ?? majority(n) },
    acl: {
      enabled: spec.acl.enabled,
      users: spec.acl.enabled ? (spec.acl.users ?? [{ name: DEFAULT_APP_USER, rules: DEFAULT_APP_USER_RULES }]) : [],
    },
  };
}

/**
 * `problem` as the caller's input places it: `prefix` (such as `spec.`) names where the checked value sits, and goes
 * before the problem's path. A problem of the whole value, `(spec)`, takes the prefix's own name (`spec`).
 */
export function prefixProblem(prefix: string, problem: SpecProblem): SpecProblem {
  if (!prefix) return problem;
  return { ...problem, path: problem.path === "(spec)" ? prefix.replace(/\.$/, "") : `${prefix}${problem.path}` };
}

/** A construct's nested prop (such as `monitoring`): the keys it takes, and an example of one. */
export interface NestedProp {
  readonly keys: readonly string[];
  readonly example: string;
}

/**
 * Problems of a construct's nested props: each one given must be an object of known keys. `null` (as from JSON) is
 * not "left out": it is refused like any other value that is not an object.
 */
export function nestedPropProblems(props: object, nested: Readonly<Record<string, NestedProp>>): SpecProblem[] {
  const problems: SpecProblem[] = [];
  for (const [prop, { keys, example }] of Object.entries(nested)) {
    const value: unknown = (props as Record<string, unknown>)[prop];
    if (value === undefined) continue;
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      problems.push({ path: prop, value: describeValue(value), message: `must be an object such as ${example}, or left out` });
      continue;
    }
    const unknown = unknownPropsProblem(value, keys, `${prop}.`, `${prop} takes ${keys.join(", ")}`);
    if (unknown) problems.push(unknown);
  }
  return problems;
}

/**
 * The keys of `props` that are not `known` (a typo), as one problem with their paths under `prefix`, and `where`
 * the props are listed; undefined when every key is known.
 */
export function unknownPropsProblem(props: object, known: Iterable<string>, prefix: string, where: string): SpecProblem | undefined {
  const names = new Set(known);
  const unknown = Object.keys(props).filter((key) => !names.has(key));
  if (unknown.length === 0) return undefined;
  return {
    path: unknown.map((key) => `${prefix}${key}`).join(", "),
    value: "(present)",
    message: `unknown prop${unknown.length === 1 ? "" : "s"}. Check the spelling; ${where}`,
  };
}

/** Zod's issues as problems; `pathPrefix` (such as `spec.`) names where the parsed value sits in the caller's input. */
export function toProblems(issues: readonly z.core.$ZodIssue[], pathPrefix = ""): SpecProblem[] {
  return issues.map((issue) => prefixProblem(pathPrefix, toProblem(issue)));
}

function toProblem(issue: z.core.$ZodIssue): SpecProblem {
  let path = formatPath(issue.path);
  let message = issue.message;
  if (issue.code === "unrecognized_keys") {
    const keys = issue.keys;
    path = keys.map((k) => formatPath([...issue.path, k])).join(", ");
    message = `unknown field${keys.length === 1 ? "" : "s"}. Check the spelling; the fields are listed in the README's spec reference`;
  }
  if (issue.code === "invalid_type" && issue.message.startsWith("Invalid input")) message = typeMismatch(issue.expected, issue.input);
  const value = formatValue(issue);
  // Under auth a value may be a secret pasted in by mistake: never echo it.
  // So may ACL rules that set a password (`>secret`, `#hash`): those are refused, and not echoed either.
  const passwordInRules = issue.path.includes("rules") && /[<>#]/.test(value);
  const hidden = (issue.path[0] === "auth" && value !== "(missing)") || passwordInRules;
  return { path, value: hidden ? "(hidden)" : value, message };
}

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "(spec)";
  return path.reduce<string>(
    (out, key) => (typeof key === "number" ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)),
    "",
  );
}

function formatValue(issue: z.core.$ZodIssue): string {
  if (issue.code === "unrecognized_keys") return "(present)";
  return describeValue((issue as { input?: unknown }).input);
}

/**
 * A value as an error shows it: JSON (so "14" and 14 differ), NaN and Infinity by name, shortened past 60
 * characters, and never a private key pasted in by mistake.
 */
export function describeValue(value: unknown): string {
  if (value === undefined) return "(missing)";
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  const text = JSON.stringify(value) ?? String(value);
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) return "(hidden: a private key)";
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** What a field of the wrong type must be, in our words (zod's default says "Invalid input: expected ..."). */
const EXPECTED: Record<string, string> = {
  object: "an object of fields",
  array: "a list",
  string: "a string",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
};

function typeMismatch(expected: string, input: unknown): string {
  const got = input === null ? "null" : Array.isArray(input) ? "a list" : input === undefined ? "nothing" : `a ${typeof input}`;
  return `must be ${EXPECTED[expected] ?? expected}, not ${got}`;
}

/**
 * Throws a SpecError unless a construct's props are an object (not missing, null, a list or a scalar), before the
 * construct reads any of them; `example` shows the call with its required props.
 */
export function assertProps(props: unknown, example: string): void {
  if (isObject(props)) return;
  const value = props === undefined ? "(missing)" : Array.isArray(props) ? "(a list)" : JSON.stringify(props);
  throw new SpecError([{ path: "props", value, message: `must be an object of props: ${example}` }]);
}

/** Why a Terraform token is refused where a value is rendered into the nodes' configs. */
export const TOKEN_AT_SYNTH =
  "is a Terraform token (a variable or another resource's attribute), known only when Terraform applies; it is written into the nodes' configs when the stack is synthesized, so give the value itself";

/**
 * The spec without its Terraform tokens, and a problem for each one (`isToken` is cdktf's `Token.isUnresolved`):
 * every spec value is rendered into configs at synth time. Each token is left out of the returned spec, so that
 * the spec's own checks report nothing else about it.
 */
export function withoutTokens(spec: unknown, isToken: (value: unknown) => boolean, pathPrefix = "spec"): { spec: unknown; problems: SpecProblem[] } {
  const problems: SpecProblem[] = [];
  const walk = (value: unknown, path: string): unknown => {
    if (isToken(value)) {
      problems.push({ path, value: "(a Terraform token)", message: TOKEN_AT_SYNTH });
      return undefined;
    }
    if (Array.isArray(value)) return value.map((item, i) => walk(item, `${path}[${i}]`));
    if (typeof value === "object" && value !== null) {
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, walk(item, `${path}.${key}`)]));
    }
    return value;
  };
  return { spec: walk(spec, pathPrefix), problems };
}

/**
 * Loading a scenario: YAML → zod, with every problem reported at once and located in the file
 * (`file:line:col: path.to.key: what is wrong (expected …)`).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isMap, isPair, isScalar, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { ClickbenchError, ExitCode } from '../errors.js';
import { scenarioSchema, type Scenario } from './schema.js';

export interface ScenarioProblem {
  file: string;
  line: number;
  col: number;
  path: string;
  message: string;
}

/** A parser message quotes the offending token whole: keep a line readable when the token is long. */
function shorten(message: string, max = 160): string {
  return message.length <= max ? message : `${message.slice(0, max - 1)}…`;
}

export function formatProblem(p: ScenarioProblem): string {
  return `${p.file}:${p.line}:${p.col}: ${p.path ? `${p.path}: ` : ''}${p.message}`;
}

/** A path as `phases.2.fault.at`; a key that is empty, blank or unusual is quoted (`"" ` or `" x"`), and a long one cut. */
export function formatPath(path: readonly (string | number)[]): string {
  return path.map((k) => (typeof k === 'number' || /^[A-Za-z0-9_.<>-]+$/.test(k) ? String(k) : JSON.stringify(k.length > 40 ? k.slice(0, 40) + '…' : k))).join('.');
}

export class ScenarioError extends ClickbenchError {
  constructor(readonly problems: ScenarioProblem[]) {
    super(problems.map(formatProblem).join('\n'), { exitCode: ExitCode.usage });
    this.name = 'ScenarioError';
  }
  override line(): string {
    return this.message;
  }
  /** One line per problem, each already saying file:line:col: path: what (expected …). */
  override lines(): string[] {
    return this.message.split('\n');
  }
}

export interface LoadedScenario {
  scenario: Scenario;
  file: string;
  /** sha256 of the scenario after defaults (stable under comments and formatting). */
  hash: string;
  source: string;
}

type PathKey = string | number;

/** Find the YAML node for a path; for a missing key, the nearest existing parent. `keyOf` locates the key itself. */
function locate(doc: Document, path: readonly PathKey[], keyOf?: string): Node | undefined {
  let node: unknown = doc.contents;
  for (const k of path) {
    const next = (node as { get?: (k: unknown, keep: boolean) => unknown })?.get?.(k, true);
    if (next === undefined) break;
    node = next;
  }
  if (keyOf !== undefined && isMap(node)) {
    const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === keyOf);
    if (pair && isScalar(pair.key)) return pair.key;
  }
  return node as Node | undefined;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const said = describeIssueAs(issue);
  // A key that is missing is "required", not "undefined is invalid".
  return issue.input === undefined ? said.replace(/^undefined is (invalid|not allowed)/, 'is required') : said;
}

function describeIssueAs(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      // A schema's own message wins (e.g. "passwords are not read from scenario files"), without echoing the value.
      if (issue.expected === 'never' && issue.message && !issue.message.startsWith('Invalid')) return issue.message;
      return issue.input === undefined ? `is required (expected ${issue.expected})` : `expected ${issue.expected}, got ${describeValue(issue.input)}`;
    case 'too_small':
      return `${describeValue(issue.input)} is too small (expected ${issue.inclusive === false ? '>' : '≥'} ${String(issue.minimum)})`;
    case 'too_big':
      return `${describeValue(issue.input)} is too large (expected ${issue.inclusive === false ? '<' : '≤'} ${String(issue.maximum)})`;
    case 'invalid_value':
      return `${describeValue(issue.input)} is not allowed (expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')})`;
    case 'invalid_union':
      if ((issue as { note?: string }).note === 'No matching discriminator') {
        const kind = (issue.input as { kind?: unknown } | undefined)?.kind;
        return kind === undefined ? 'is missing its "kind"' : `unknown kind ${describeValue(kind)}`;
      }
      return issue.message.startsWith('expected') ? `${describeValue(issue.input)} is invalid (${issue.message})` : issue.message;
    case 'invalid_format':
      return `${describeValue(issue.input)} is invalid (${issue.message})`;
    default:
      return issue.message;
  }
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  return String(v);
}

function closest(word: string, options: string[]): string | undefined {
  const dist = (a: string, b: string) => {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) d[0][j] = j;
    for (let i = 1; i <= a.length; i++) for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    return d[a.length][b.length];
  };
  const best = options.map((o) => [o, dist(word, o)] as const).sort((a, b) => a[1] - b[1])[0];
  return best && best[1] <= Math.max(2, Math.floor(word.length / 3)) ? best[0] : undefined;
}

/** Known keys at a path, for "did you mean" on a typo. */
function knownKeysAt(doc: Document, path: readonly PathKey[], unknown: string[]): string[] {
  const node = locate(doc, path);
  const present = isMap(node) ? node.items.map((p) => String((p.key as { value?: unknown })?.value)) : [];
  return present.filter((k) => !unknown.includes(k));
}

/** Most alias nodes a scenario may expand (YAML's own default; a scenario needs a handful). */
export const MAX_ALIASES = 100;

/** Parse and validate scenario text. Throws ScenarioError with every problem found. */
export function parseScenario(source: string, file = '<scenario>', overrides: Record<string, unknown> = {}): LoadedScenario {
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number | undefined) => {
    const pos = lineCounter.linePos(offset ?? 0);
    return { line: pos.line, col: pos.col };
  };
  if (doc.errors.length > 0) {
    throw new ScenarioError(doc.errors.map((e) => ({ file, ...at(e.pos[0]), path: '', message: `YAML syntax: ${shorten(e.message.split('\n')[0])}` })));
  }
  let raw: unknown;
  try {
    // Aliases are expanded here: an unresolved one, or a billion-laughs expansion (more than
    // MAX_ALIASES alias nodes), is refused instead of thrown or expanded.
    raw = doc.toJS({ maxAliasCount: MAX_ALIASES }) ?? {};
  } catch (err) {
    const message = (err as Error).message;
    const alias = /Unresolved alias.*: (\S+)/.exec(message)?.[1];
    const offset = alias ? source.indexOf(`*${alias}`) : source.indexOf('*');
    throw new ScenarioError([{ file, ...at(offset >= 0 ? offset : 0), path: '', message: alias ? `YAML: alias *${alias} has no anchor &${alias} before it` : `YAML: ${message.split('\n')[0]} (at most ${MAX_ALIASES} aliases are expanded)` }]);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ScenarioError([{ file, line: 1, col: 1, path: '', message: 'expected a mapping of scenario keys (name, duration, traffic, …)' }]);
  }
  Object.assign(raw as Record<string, unknown>, overrides);
  const result = scenarioSchema.safeParse(raw, { reportInput: true });
  if (!result.success) {
    const problems: ScenarioProblem[] = [];
    for (const issue of result.error.issues) {
      const path = issue.path as PathKey[];
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) {
          const node = locate(doc, path, key);
          const schemaKeys = knownSchemaKeys(path);
          const guess = closest(key, schemaKeys.length ? schemaKeys : knownKeysAt(doc, path, issue.keys));
          problems.push({ file, ...at(node?.range?.[0]), path: formatPath([...path, key]), message: `unknown key${guess ? ` (did you mean "${guess}"?)` : ''}` });
        }
        continue;
      }
      const node = locate(doc, path);
      problems.push({ file, ...at(node?.range?.[0]), path: formatPath(path), message: describeIssue(issue) });
    }
    problems.sort((a, b) => a.line - b.line || a.col - b.col);
    throw new ScenarioError(problems);
  }
  const scenario = result.data;
  const hash = createHash('sha256').update(JSON.stringify(scenario)).digest('hex');
  return { scenario, file, hash, source };
}

/** Keys the schema allows at a path (walks the zod object shapes; empty when unknown). */
function knownSchemaKeys(path: readonly PathKey[]): string[] {
  let s: unknown = scenarioSchema;
  const unwrap = (x: any): any => {
    for (let i = 0; i < 10 && x; i++) {
      const def = x._zod?.def;
      if (!def) return x;
      if (def.type === 'object') return x;
      if (def.innerType) x = def.innerType;
      else if (def.in && def.type === 'pipe') x = def.in;
      else if (def.type === 'array' && def.element) x = def.element;
      else return x;
    }
    return x;
  };
  for (const k of path) {
    const obj = unwrap(s);
    const def = obj?._zod?.def;
    if (def?.type === 'array') s = def.element;
    else if (def?.type === 'object' && typeof k === 'string') s = def.shape[k];
    else if (typeof k === 'number') continue;
    else return [];
  }
  const obj = unwrap(s);
  const def = obj?._zod?.def;
  if (def?.type === 'object') return Object.keys(def.shape);
  if (def?.type === 'union' && Array.isArray(def.options)) return def.options.flatMap((o: any) => Object.keys(unwrap(o)?._zod?.def?.shape ?? {}));
  return [];
}

export function loadScenario(file: string, overrides: Record<string, unknown> = {}): LoadedScenario {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ClickbenchError(`cannot read scenario ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
      exitCode: ExitCode.usage,
      hint: 'give the path of a scenario YAML file, e.g. scenarios/quickstart.yaml',
    });
  }
  return parseScenario(source, file, overrides);
}

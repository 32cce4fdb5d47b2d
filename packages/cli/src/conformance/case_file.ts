// Conformance case files (format v1, shared/CONFORMANCE.md): reading and validating them, with
// errors that name the file, the case and the field, before anything runs.
import { readFileSync } from 'node:fs';
import { conformanceOps, type HostTensor, type OpSignature } from './ops.ts';

/** A tensor as a case file stores it: a shape and its values, flat and row-major. */
export type CaseTensor = HostTensor;

/** A value passes when |got − want| <= atol + rtol · |want|. */
export interface Tolerance {
  readonly atol: number;
  readonly rtol: number;
}

export interface ConformanceCase {
  readonly id: string;
  readonly op: string;
  /** Position in the file (0-based), for messages. */
  readonly index: number;
  readonly inputs: Readonly<Record<string, CaseTensor>>;
  readonly attrs: Readonly<Record<string, unknown>>;
  /** The upstream gradient of `output`; when present, backward runs and gradients are compared. */
  readonly gradOutput?: CaseTensor;
  /** `output`, `grad.<input>`, and `running_mean` / `running_var` after the call. */
  readonly expect: Readonly<Record<string, CaseTensor>>;
  readonly tol: Tolerance;
}

export interface CaseFile {
  /** Where the cases came from (a path), for messages. */
  readonly source: string;
  readonly cases: readonly ConformanceCase[];
}

/** A case file that cannot be run as written: every problem found, each naming its case. */
export class CaseFileError extends Error {
  readonly problems: readonly string[];
  constructor(source: string, problems: readonly string[]) {
    const shown = problems.slice(0, MAX_PROBLEMS);
    const more = problems.length > MAX_PROBLEMS ? [`... and ${problems.length - MAX_PROBLEMS} more`] : [];
    super(`${source}: ${problems.length === 1 ? problems[0] : `${problems.length} problems:\n  ${[...shown, ...more].join('\n  ')}`}`);
    this.name = 'CaseFileError';
    this.problems = problems;
  }
}

const MAX_PROBLEMS = 20;
const FILE_KEYS = ['version', 'cases', 'meta'];
const CASE_KEYS = ['id', 'op', 'inputs', 'attrs', 'grad_output', 'expect', 'tol'];

type Json = unknown;

const isObject = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A short rendering of a JSON value for messages. */
export function describeValue(v: Json): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

/** Problems in one case, each prefixed with where it is. */
class Problems {
  readonly list: string[] = [];
  constructor(private readonly where: string) {}
  add(message: string): void {
    this.list.push(`${this.where}: ${message}`);
  }
}

function parseTensor(v: Json, field: string, problems: Problems): CaseTensor | null {
  if (!isObject(v)) {
    problems.add(`${field} must be a tensor {"shape": [...], "data": [...]}, got ${describeValue(v)}`);
    return null;
  }
  const extra = Object.keys(v).filter((k) => k !== 'shape' && k !== 'data');
  if (extra.length > 0) problems.add(`${field} has unknown field(s) ${extra.join(', ')} (a tensor has "shape" and "data")`);
  const { shape, data } = v;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && (d as number) >= 0)) {
    problems.add(`${field}.shape must be a list of non-negative integers, got ${describeValue(shape)}`);
    return null;
  }
  if (!Array.isArray(data)) {
    problems.add(`${field}.data must be a list of numbers, got ${describeValue(data)}`);
    return null;
  }
  const bad = data.findIndex((x) => typeof x !== 'number' || !Number.isFinite(x));
  if (bad >= 0) {
    problems.add(`${field}.data[${bad}] is not a number: ${describeValue(data[bad])}`);
    return null;
  }
  const size = (shape as number[]).reduce((p, d) => p * d, 1);
  if (data.length !== size) {
    problems.add(`${field}: shape [${shape.join(', ')}] holds ${size} value${size === 1 ? '' : 's'}, but data has ${data.length}`);
    return null;
  }
  return { shape: shape as number[], data: data as number[] };
}

function parseTolerance(v: Json, problems: Problems): Tolerance | null {
  if (v === undefined) {
    problems.add('tol is missing; give {"atol": number, "rtol": number}');
    return null;
  }
  if (!isObject(v)) {
    problems.add(`tol must be {"atol": number, "rtol": number}, got ${describeValue(v)}`);
    return null;
  }
  const { atol, rtol } = v;
  let ok = true;
  for (const [name, value] of [['atol', atol], ['rtol', rtol]] as const) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      problems.add(`tol.${name} must be a non-negative number, got ${describeValue(value)}`);
      ok = false;
    }
  }
  const extra = Object.keys(v).filter((k) => k !== 'atol' && k !== 'rtol');
  if (extra.length > 0) problems.add(`tol has unknown field(s) ${extra.join(', ')}`);
  return ok ? { atol: atol as number, rtol: rtol as number } : null;
}

function parseTensors(v: Json, field: string, problems: Problems): Record<string, CaseTensor> | null {
  if (!isObject(v)) {
    problems.add(`${field} must be an object of name → tensor, got ${describeValue(v)}`);
    return null;
  }
  const out: Record<string, CaseTensor> = {};
  let ok = true;
  for (const [name, t] of Object.entries(v)) {
    const parsed = parseTensor(t, `${field}.${name}`, problems);
    if (parsed) out[name] = parsed;
    else ok = false;
  }
  return ok ? out : null;
}

/** Checks a case's inputs, attrs and expectations against what its op takes. */
function checkSignature(c: Omit<ConformanceCase, 'index'>, sig: OpSignature, problems: Problems): void {
  const inputNames = Object.keys(sig.inputs);
  for (const name of Object.keys(c.inputs)) {
    if (!(name in sig.inputs)) problems.add(`${c.op} has no input "${name}" (it takes ${inputNames.join(', ')})`);
  }
  for (const [name, spec] of Object.entries(sig.inputs)) {
    if (spec.required && !(name in c.inputs)) problems.add(`input "${name}" is missing (${c.op} requires ${inputNames.filter((n) => sig.inputs[n].required).join(', ')})`);
  }
  const target = c.inputs.target;
  if (target) {
    const bad = target.data.findIndex((x) => !Number.isInteger(x) || x < 0);
    if (bad >= 0) problems.add(`inputs.target holds class indices, but data[${bad}] is ${target.data[bad]}`);
  }
  const attrNames = Object.keys(sig.attrs);
  for (const [name, value] of Object.entries(c.attrs)) {
    const check = sig.attrs[name];
    if (!check) {
      problems.add(`${c.op} has no attribute "${name}" (${attrNames.length ? `it takes ${attrNames.join(', ')}` : 'it takes none'})`);
      continue;
    }
    const problem = check(value);
    if (problem) problems.add(`attrs.${name}: expected ${problem}, got ${describeValue(value)}`);
  }
  for (const problem of sig.check?.(c) ?? []) problems.add(problem);
  for (const key of Object.keys(c.expect)) {
    if (key === 'output') continue;
    if (key.startsWith('grad.')) {
      const input = key.slice('grad.'.length);
      if (!(input in c.inputs)) problems.add(`expect["${key}"] names no input of this case (inputs: ${Object.keys(c.inputs).join(', ')})`);
      else if (!sig.inputs[input]?.differentiable) problems.add(`expect["${key}"]: input "${input}" of ${c.op} has no gradient`);
      else if (!c.gradOutput) problems.add(`expect["${key}"] needs grad_output (the upstream gradient that backward starts from)`);
      continue;
    }
    if (sig.inputs[key]?.updated) {
      if (!(key in c.inputs)) problems.add(`expect["${key}"] is the value of input "${key}" after the call, but the case has no such input`);
      continue;
    }
    const updated = inputNames.filter((n) => sig.inputs[n].updated);
    problems.add(`expect["${key}"] is not something ${c.op} produces (expect "output", "grad.<input>"${updated.map((n) => `, "${n}"`).join('')})`);
  }
  if (Object.keys(c.expect).length === 0) problems.add('expect is empty: nothing would be compared');
  const output = c.expect.output;
  if (output && c.gradOutput && output.shape.join() !== c.gradOutput.shape.join()) {
    problems.add(`grad_output has shape [${c.gradOutput.shape.join(', ')}] but expect.output has shape [${output.shape.join(', ')}]`);
  }
}

function parseCase(v: Json, index: number, problems: Problems): ConformanceCase | null {
  if (!isObject(v)) {
    problems.add(`must be an object, got ${describeValue(v)}`);
    return null;
  }
  const unknown = Object.keys(v).filter((k) => !CASE_KEYS.includes(k));
  if (unknown.length > 0) problems.add(`unknown field(s) ${unknown.join(', ')} (a case has ${CASE_KEYS.join(', ')})`);
  const { id, op } = v;
  if (typeof id !== 'string' || id === '') problems.add(`id must be a non-empty string, got ${describeValue(id)}`);
  if (typeof op !== 'string') {
    problems.add(`op must be a string, got ${describeValue(op)}`);
    return null;
  }
  const sig = conformanceOps[op];
  if (!sig) {
    problems.add(`unknown op "${op}" (known ops: ${Object.keys(conformanceOps).join(', ')})`);
    return null;
  }
  if (v.inputs === undefined) problems.add('inputs is missing');
  if (v.expect === undefined) problems.add('expect is missing');
  const inputs = v.inputs === undefined ? null : parseTensors(v.inputs, 'inputs', problems);
  const expect = v.expect === undefined ? null : parseTensors(v.expect, 'expect', problems);
  const attrs = v.attrs ?? {};
  if (!isObject(attrs)) problems.add(`attrs must be an object, got ${describeValue(attrs)}`);
  const gradOutput = v.grad_output === undefined ? undefined : parseTensor(v.grad_output, 'grad_output', problems);
  const tol = parseTolerance(v.tol, problems);
  if (typeof id !== 'string' || !inputs || !expect || !isObject(attrs) || gradOutput === null || !tol) return null;
  const c = { id, op, index, inputs, attrs, expect, tol, ...(gradOutput ? { gradOutput } : {}) };
  const before = problems.list.length;
  checkSignature(c, sig, problems);
  return problems.list.length === before ? c : null;
}

/** Parses and validates a case file's text; throws a CaseFileError listing every problem. */
export function parseCaseFile(text: string, source: string): CaseFile {
  let json: Json;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new CaseFileError(source, [`not valid JSON: ${(e as Error).message}`]);
  }
  if (!isObject(json)) throw new CaseFileError(source, [`expected an object {"version": 1, "cases": [...]}, got ${describeValue(json)}`]);
  const problems: string[] = [];
  if (json.version !== 1) problems.push(`version must be 1 (this runner reads format v1), got ${describeValue(json.version)}`);
  const unknown = Object.keys(json).filter((k) => !FILE_KEYS.includes(k));
  if (unknown.length > 0) problems.push(`unknown top-level field(s) ${unknown.join(', ')} (a case file has version, cases and optionally meta)`);
  if (!Array.isArray(json.cases)) {
    problems.push(`"cases" must be a list of cases, got ${describeValue(json.cases)}`);
    throw new CaseFileError(source, problems);
  }
  if (json.cases.length === 0) problems.push('"cases" is empty');
  const cases: ConformanceCase[] = [];
  const seen = new Map<string, number>();
  json.cases.forEach((raw: Json, index: number) => {
    const id = isObject(raw) && typeof raw.id === 'string' ? raw.id : null;
    const caseProblems = new Problems(`case ${index}${id !== null ? ` "${id}"` : ''}`);
    if (id !== null && seen.has(id)) caseProblems.add(`id "${id}" is also the id of case ${seen.get(id)}; ids must be unique`);
    if (id !== null && !seen.has(id)) seen.set(id, index);
    const c = parseCase(raw, index, caseProblems);
    problems.push(...caseProblems.list);
    if (c) cases.push(c);
  });
  if (problems.length > 0) throw new CaseFileError(source, problems);
  return { source, cases };
}

/** Reads and validates a case file from disk; `source` names it in messages (the path by default). */
export function readCaseFile(path: string, source = path): CaseFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new CaseFileError(source, [`cannot read the file: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`]);
  }
  return parseCaseFile(text, source);
}

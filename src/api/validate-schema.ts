// A small structural schema, enough to express what the Gateway API CRDs' OpenAPI schemas
// say (types, patterns, enums, lengths, item counts, list-map keys, defaults), with a
// `check` hook on objects and arrays for the meaning of their CEL rules. Strict like
// envoy-gateway's translator inputs: a field the schema does not name is an error.

export interface FieldError {
  /** Dotted path from the object root, e.g. spec.rules[0].matches[1].path.value */
  path: string;
  /** What is wrong and what is allowed. */
  message: string;
}

/** Report an error at a path relative to the node a check runs on ('' = the node itself). */
export type Report = (relPath: string, message: string) => void;

interface Base {
  /** CRD default, applied by applyDefaults when the field is absent. */
  default?: unknown;
  /** Human description used in messages ("a lowercase RFC 1123 hostname"). */
  describe?: string;
  /** Secret data: messages never quote the value (a private key must not reach a log or /status). */
  sensitive?: boolean;
}
export interface StringSchema extends Base {
  t: 'string';
  min?: number;
  max?: number;
  pattern?: RegExp;
  enum?: readonly string[];
  check?: (v: string, report: Report) => void;
}
export interface IntSchema extends Base {
  t: 'int';
  min?: number;
  max?: number;
  enum?: readonly number[];
}
export interface BoolSchema extends Base {
  t: 'bool';
}
export interface ObjectSchema extends Base {
  t: 'object';
  fields: Record<string, Schema>;
  required?: readonly string[];
  maxProps?: number;
  check?: (v: Record<string, unknown>, report: Report) => void;
}
export interface ArraySchema extends Base {
  t: 'array';
  items: Schema;
  min?: number;
  max?: number;
  /** list-map/set semantics: items with the same key are an error. */
  uniqueBy?: (item: unknown) => string | undefined;
  uniqueWhat?: string;
  check?: (v: unknown[], report: Report) => void;
}
export interface MapSchema extends Base {
  t: 'map';
  key?: StringSchema;
  value: Schema;
  maxProps?: number;
}
export interface AnySchema extends Base {
  t: 'any';
}
export interface IntOrStringSchema extends Base {
  t: 'intOrString';
  int: IntSchema;
  str: StringSchema;
}
export type Schema =
  | StringSchema
  | IntSchema
  | BoolSchema
  | ObjectSchema
  | ArraySchema
  | MapSchema
  | AnySchema
  | IntOrStringSchema;

// ------------------------------------------------------------------ builders

export const str = (o: Omit<StringSchema, 't'> = {}): StringSchema => ({ t: 'string', ...o });
export const int = (o: Omit<IntSchema, 't'> = {}): IntSchema => ({ t: 'int', ...o });
export const bool = (o: Omit<BoolSchema, 't'> = {}): BoolSchema => ({ t: 'bool', ...o });
export const any = (o: Omit<AnySchema, 't'> = {}): AnySchema => ({ t: 'any', ...o });
export const obj = (fields: Record<string, Schema>, o: Omit<ObjectSchema, 't' | 'fields'> = {}): ObjectSchema => ({
  t: 'object',
  fields,
  ...o,
});
export const arr = (items: Schema, o: Omit<ArraySchema, 't' | 'items'> = {}): ArraySchema => ({ t: 'array', items, ...o });
export const map = (value: Schema, o: Omit<MapSchema, 't' | 'value'> = {}): MapSchema => ({ t: 'map', value, ...o });
export const withDefault = <S extends Schema>(s: S, d: unknown): S => ({ ...s, default: d });

// ------------------------------------------------------------------ walking

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function joinPath(base: string, rel: string): string {
  if (!rel) return base;
  if (!base) return rel.startsWith('[') ? rel : rel;
  return rel.startsWith('[') ? base + rel : `${base}.${rel}`;
}

function typeName(v: unknown, sensitive = false): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string' && sensitive) return `a string (${v.length} characters, not shown)`;
  if (typeof v === 'string') return `a string (${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)})`;
  return `${typeof v} (${String(v)})`;
}

function quoteList(xs: readonly (string | number)[]): string {
  return xs.map((x) => (typeof x === 'string' ? `'${x}'` : String(x))).join(', ');
}

export function walk(schema: Schema, value: unknown, path: string, errors: FieldError[]): void {
  const err = (rel: string, message: string): void => {
    errors.push({ path: joinPath(path, rel), message });
  };
  switch (schema.t) {
    case 'any':
      return;
    case 'string': {
      if (typeof value !== 'string') return err('', `must be a string${schema.describe ? ` (${schema.describe})` : ''}, got ${typeName(value, schema.sensitive)}`);
      checkString(schema, value, err);
      return;
    }
    case 'int': {
      if (typeof value !== 'number' || !Number.isInteger(value))
        return err('', `must be an integer, got ${typeName(value, schema.sensitive)}`);
      checkInt(schema, value, err);
      return;
    }
    case 'intOrString': {
      if (typeof value === 'string') return walk(schema.str, value, path, errors);
      return walk(schema.int, value, path, errors);
    }
    case 'bool':
      if (typeof value !== 'boolean') err('', `must be true or false, got ${typeName(value, schema.sensitive)}`);
      return;
    case 'array': {
      if (!Array.isArray(value)) return err('', `must be a list, got ${typeName(value, schema.sensitive)}`);
      if (schema.min !== undefined && value.length < schema.min)
        err('', `must have at least ${schema.min} item${schema.min === 1 ? '' : 's'} (has ${value.length})`);
      if (schema.max !== undefined && value.length > schema.max)
        err('', `must have at most ${schema.max} items (has ${value.length})`);
      value.forEach((item, i) => walk(schema.items, item, `${path}[${i}]`, errors));
      if (schema.uniqueBy) {
        const seen = new Map<string, number>();
        value.forEach((item, i) => {
          const k = schema.uniqueBy!(item);
          if (k === undefined) return;
          const first = seen.get(k);
          if (first !== undefined)
            err(`[${i}]`, `duplicate ${schema.uniqueWhat ?? 'entry'} ${JSON.stringify(k)} (already at index ${first}); entries must be unique`);
          else seen.set(k, i);
        });
      }
      if (schema.check) schema.check(value, err);
      return;
    }
    case 'map': {
      if (!isObject(value)) return err('', `must be a map of key: value, got ${typeName(value, schema.sensitive)}`);
      const keys = Object.keys(value);
      if (schema.maxProps !== undefined && keys.length > schema.maxProps)
        err('', `must have at most ${schema.maxProps} entries (has ${keys.length})`);
      for (const k of keys) {
        const p = `${path}[${k}]`;
        if (schema.key) {
          const ke: FieldError[] = [];
          walk(schema.key, k, p, ke);
          for (const e of ke) errors.push({ path: e.path, message: `key ${e.message}` });
        }
        walk(schema.value, value[k], p, errors);
      }
      return;
    }
    case 'object': {
      if (!isObject(value)) return err('', `must be an object, got ${typeName(value, schema.sensitive)}`);
      const known = Object.keys(schema.fields);
      for (const k of Object.keys(value)) {
        if (!(k in schema.fields)) {
          const guess = closest(k, known);
          err(k, `unknown field${guess ? `; did you mean '${guess}'?` : ''} (allowed here: ${known.join(', ') || 'none'})`);
        }
      }
      for (const r of schema.required ?? []) {
        if (value[r] === undefined || value[r] === null) err(r, 'required field is missing');
      }
      if (schema.maxProps !== undefined && Object.keys(value).length > schema.maxProps)
        err('', `must have at most ${schema.maxProps} entries`);
      for (const k of known) {
        const v = value[k];
        // null is how YAML spells "absent" for an optional field (`foo:` with nothing after).
        if (v === undefined || v === null) continue;
        walk(schema.fields[k]!, v, joinPath(path, k), errors);
      }
      if (schema.check) schema.check(value, err);
      return;
    }
  }
}

function checkString(s: StringSchema, v: string, err: Report): void {
  if (s.enum && !s.enum.includes(v)) {
    err('', `must be one of ${quoteList(s.enum)} (got ${s.sensitive ? 'a value not shown' : `'${v}'`})`);
    return;
  }
  if (s.min !== undefined && v.length < s.min)
    err('', s.min === 1 ? 'must not be empty' : `must be at least ${s.min} characters (got ${v.length})`);
  if (s.max !== undefined && v.length > s.max) err('', `must be at most ${s.max} characters (got ${v.length})`);
  if (s.pattern && v.length > 0 && !s.pattern.test(v))
    err('', `${s.sensitive ? `the value (${v.length} characters, not shown)` : `'${v.length > 80 ? v.slice(0, 80) + '…' : v}'`} is not ${s.describe ?? 'valid'}: must match ${s.pattern.source}`);
  if (s.check) s.check(v, err);
}

function checkInt(s: IntSchema, v: number, err: Report): void {
  if (s.enum && !s.enum.includes(v)) return err('', `must be one of ${quoteList(s.enum)} (got ${v})`);
  if (s.min !== undefined && v < s.min) err('', `must be at least ${s.min}${s.max !== undefined ? ` and at most ${s.max}` : ''} (got ${v})`);
  else if (s.max !== undefined && v > s.max) err('', `must be at most ${s.max}${s.min !== undefined ? ` and at least ${s.min}` : ''} (got ${v})`);
}

/**
 * `value` with the schema's defaults filled in where fields are absent: a new object along the
 * paths that changed, the very same objects everywhere else (the parsed manifest and the stored
 * resource share what defaulting left alone, instead of the store holding a second copy).
 * Values of the wrong type are returned as they are (validation reports them). Subtrees whose
 * schema sets no default are not visited: at 10,000 routes and 1,000 EndpointSlices (100,000
 * endpoints, none with a default) that took defaulting from ~97 to ~17-21 ms warm, and from
 * 137 to 34 ms of a cold start's CPU profile.
 */
export function applyDefaults(schema: Schema, value: unknown): unknown {
  if (!holdsDefault(schema)) return value;
  if (schema.t === 'object' && isObject(value)) {
    let out: Record<string, unknown> | undefined;
    for (const [k, fs] of defaultedFields(schema)) {
      const v = value[k];
      let nv = v;
      // A string default is used as it is: a clone is a new copy per object (10,000 routes held
      // 10,000 "gateway.networking.k8s.io"s).
      if ((nv === undefined || nv === null) && fs.default !== undefined) nv = typeof fs.default === 'object' ? structuredClone(fs.default) : fs.default;
      if (nv !== undefined && nv !== null) nv = applyDefaults(fs, nv);
      if (nv !== v) (out ??= { ...value })[k] = nv;
    }
    return out ?? value;
  }
  if (schema.t === 'array' && Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const nv = applyDefaults(schema.items, value[i]);
      if (nv !== value[i]) (out ??= value.slice())[i] = nv;
    }
    return out ?? value;
  }
  if (schema.t === 'map' && isObject(value)) {
    let out: Record<string, unknown> | undefined;
    for (const [k, v] of Object.entries(value)) {
      const nv = applyDefaults(schema.value, v);
      if (nv !== v) (out ??= { ...value })[k] = nv;
    }
    return out ?? value;
  }
  return value;
}

const holds = new WeakMap<Schema, boolean>();
/** Whether a default is set anywhere in `schema`'s tree (below its own: a node's default is its parent's to apply). */
function holdsDefault(schema: Schema): boolean {
  let h = holds.get(schema);
  if (h !== undefined) return h;
  holds.set(schema, false); // a schema that contains itself holds no more than its other parts
  if (schema.t === 'object') h = defaultedFields(schema).length > 0;
  else if (schema.t === 'array') h = holdsDefault(schema.items);
  else if (schema.t === 'map') h = holdsDefault(schema.value);
  else h = false;
  holds.set(schema, h);
  return h;
}

const defaulted = new WeakMap<ObjectSchema, readonly (readonly [string, Schema])[]>();
/** The fields of `schema` that have a default or hold one below. */
function defaultedFields(schema: ObjectSchema): readonly (readonly [string, Schema])[] {
  let fs = defaulted.get(schema);
  if (!fs) defaulted.set(schema, (fs = Object.entries(schema.fields).filter(([, f]) => f.default !== undefined || holdsDefault(f))));
  return fs;
}

/** The allowed name a typo most likely meant (case-insensitive edit distance <= 2), if any. */
function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  const w = word.toLowerCase();
  for (const c of candidates) {
    const d = editDistance(w, c.toLowerCase());
    if (d < bestD) (best = c), (bestD = d);
  }
  return best;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

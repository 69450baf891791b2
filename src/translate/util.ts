// Shape guards. The translator reads objects a schema check may not have seen (a file
// being edited, an older CRD): a field of the wrong shape is treated as absent, never
// dereferenced.

/** The array's object entries; anything else (absent, a string, a number) reads as an empty list. */
export function arr<T>(v: T[] | readonly T[] | undefined | null | unknown): T[] {
  return Array.isArray(v) ? (v.filter((x) => x !== null && typeof x === 'object') as T[]) : [];
}

/**
 * `a` with room for its entries only. An array grown by push() keeps room for 16 more: ~130
 * bytes per array, megabytes for the arrays kept per route at 10,000 routes (attachments,
 * backends, served hostnames). For arrays that outlive the translation.
 */
export function exact<T>(a: T[]): T[] {
  return a.slice();
}

/** The array's string entries. */
export function strs(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export function obj<T extends object>(v: T | undefined | null | unknown): Partial<T> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Partial<T>) : {};
}

/** Whether a RegularExpression match value compiles (an invalid one makes its rule unsupported). */
export function validRegex(re: string): boolean {
  try {
    new RegExp(re);
    return true;
  } catch {
    return false;
  }
}

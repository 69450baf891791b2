// A fast reader for the plain block YAML that manifests are almost always written in (what
// kubectl, Helm and most editors emit): block mappings and sequences, one-line plain and quoted
// scalars, comments, `---` between documents. It resolves scalars exactly as the `yaml`
// package's core schema does (YAML 1.2), which files.ts uses for everything else.
//
// Anything outside that subset (flow collections other than [] and {}, block scalars, anchors,
// aliases, tags, directives, multi-line scalars, tabs, duplicate keys, lists, syntax errors)
// makes it give up on the whole text (`undefined`): the caller then parses it with `yaml`,
// which has the full grammar and reports errors with lines. Giving up is always safe; a wrong
// answer is not, so every doubt gives up. At 10,000 routes and 100,000 endpoints (10 MB) the
// `yaml` package took ~6 s of a 9 s start; this takes a few hundred ms.

export interface BlockDoc {
  /** 1-based line of the document's first content line. */
  line: number;
  value: Record<string, unknown>;
  /** The document's text, from its first content line to the end of its last line. */
  start: number;
  end: number;
}

class Unsupported extends Error {}
const GIVE_UP = new Unsupported();

const NULL_RE = /^(?:~|[Nn]ull|NULL)?$/;
const BOOL_RE = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
const OCT_RE = /^0o[0-7]+$/;
const INT_RE = /^[-+]?[0-9]+$/;
const HEX_RE = /^0x[0-9a-fA-F]+$/;
const INF_NAN_RE = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;
const EXP_RE = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/;
const FLOAT_RE = /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/;
/** A map key read here: a plain word (no indicator first, nothing that could resolve to a non-string). */
const KEY_RE = /^[A-Za-z_][A-Za-z0-9_.\/:-]*$/;
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\x00-\x09\x0b\x0c\x0e-\x1f\x7f]/;

/** A plain scalar as the core schema resolves it (the `yaml` package's tags, same order). */
export function resolvePlain(s: string): unknown {
  const c = s.charCodeAt(0);
  // Only strings start with a letter other than these (n/N/t/T/f/F, or . and digits, signs, ~).
  if (s.length === 0 || c === 0x7e /* ~ */) return NULL_RE.test(s) ? null : s;
  if (c === 0x6e || c === 0x4e) return NULL_RE.test(s) ? null : s;
  if (c === 0x74 || c === 0x54 || c === 0x66 || c === 0x46) return BOOL_RE.test(s) ? s[0] === 't' || s[0] === 'T' : s;
  if ((c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e) {
    if (OCT_RE.test(s)) return parseInt(s.substring(2), 8);
    if (INT_RE.test(s)) return parseInt(s, 10);
    if (HEX_RE.test(s)) return parseInt(s.substring(2), 16);
    if (INF_NAN_RE.test(s)) return s.slice(-3).toLowerCase() === 'nan' ? NaN : s[0] === '-' ? -Infinity : Infinity;
    if (EXP_RE.test(s) || FLOAT_RE.test(s)) return parseFloat(s);
  }
  return s;
}

interface Line {
  indent: number;
  /** Offset of the first non-space character, and of the end of the line (no newline, no trailing spaces). */
  from: number;
  to: number;
}

/**
 * The documents of `text`, or undefined when any part of it is outside the subset above (the
 * caller must then use the full parser). Empty documents are left out, as `yaml` leaves them.
 */
export function readBlockYaml(text: string): BlockDoc[] | undefined {
  try {
    return new Reader(text).documents();
  } catch (e) {
    if (e instanceof Unsupported) return undefined;
    throw e;
  }
}

class Reader {
  private readonly lines: Line[] = [];
  /** 1-based line number of each entry of `lines`, and where each line starts (for the document text). */
  private readonly lineNo: number[] = [];
  private readonly lineStart: number[] = [];
  private readonly lineEnd: number[] = [];
  private i = 0;

  constructor(private readonly text: string) {}

  /**
   * One string per distinct value in this text. V8 cuts a string of 13 characters or more out of
   * `text` as a view that keeps all of `text` alive: one `apiVersion` kept the 7 MB file it came
   * from for as long as the object lived, so such a string becomes a copy of its own. A shorter one
   * is a copy already, made again for every occurrence: 10,000 routes held 22,000 "bench"es.
   */
  private readonly copies = new Map<string, string>();
  private own(s: string): string {
    let c = this.copies.get(s);
    if (c === undefined) {
      // A new string that owns its characters: the concatenation is flattened before slicing.
      c = s.length < 13 ? s : (' ' + s).slice(1);
      this.copies.set(c, c);
    }
    return c;
  }

  documents(): BlockDoc[] {
    const text = this.text;
    // A BOM, tabs (separators the checks below do not look for) and control characters: the full parser.
    if (text.charCodeAt(0) === 0xfeff || CONTROL_RE.test(text)) throw GIVE_UP;
    const docs: BlockDoc[] = [];
    // Split into content lines; document markers close the current document.
    let pos = 0;
    let no = 0;
    const flush = () => {
      if (this.lines.length === 0) return;
      this.i = 0;
      const first = this.lines[0]!;
      if (first.indent !== 0) throw GIVE_UP;
      const value = this.block(0);
      if (this.i !== this.lines.length || typeof value !== 'object' || value === null || Array.isArray(value)) throw GIVE_UP;
      const v = value as Record<string, unknown>;
      // kubectl's `kind: List` envelope is read by the full parser, which knows each item's line.
      if (typeof v.kind === 'string' && /List$/.test(v.kind)) throw GIVE_UP;
      docs.push({ line: this.lineNo[0]!, value: v, start: this.lineStart[0]!, end: this.lineEnd[this.lineEnd.length - 1]! });
      this.lines.length = this.lineNo.length = this.lineStart.length = this.lineEnd.length = 0;
    };
    while (pos <= text.length) {
      let eol = text.indexOf('\n', pos);
      if (eol < 0) eol = text.length;
      no++;
      let to = eol;
      if (to > pos && text.charCodeAt(to - 1) === 0x0d) to--;
      while (to > pos && text.charCodeAt(to - 1) === 0x20) to--;
      let from = pos;
      while (from < to && text.charCodeAt(from) === 0x20) from++;
      if (from < to) {
        const c = text.charCodeAt(from);
        if (c === 0x23 /* # */) {
          // a comment line
        } else if (from === pos && (c === 0x2d || c === 0x2e || c === 0x25) && (text.startsWith('---', from) || text.startsWith('...', from) || c === 0x25)) {
          if (to - from !== 3 || c !== 0x2d) throw GIVE_UP; // directives, `...`, `--- content`
          flush();
        } else {
          this.lines.push({ indent: from - pos, from, to });
          this.lineNo.push(no);
          this.lineStart.push(from);
          this.lineEnd.push(eol);
        }
      }
      pos = eol + 1;
    }
    flush();
    return docs;
  }

  /** The node whose first line is lines[i], at exactly `indent`. */
  private block(indent: number): unknown {
    const l = this.lines[this.i]!;
    if (l.indent !== indent) throw GIVE_UP;
    return this.isSeqItem(l) ? this.seq(indent, false) : this.map(indent, l.from);
  }

  private isSeqItem(l: Line): boolean {
    return this.text.charCodeAt(l.from) === 0x2d && (l.to - l.from === 1 || this.text.charCodeAt(l.from + 1) === 0x20);
  }

  /**
   * A block sequence whose `-` indicators are at `indent`. `atKey`: the sequence is a mapping
   * value at its key's own indentation, so it ends at the next line that is not an item.
   */
  private seq(indent: number, atKey: boolean): unknown[] {
    const out: unknown[] = [];
    const text = this.text;
    while (this.i < this.lines.length) {
      const l = this.lines[this.i]!;
      if (l.indent < indent || (atKey && l.indent === indent && !this.isSeqItem(l))) break;
      if (l.indent > indent || !this.isSeqItem(l)) throw GIVE_UP;
      let from = l.from + 1;
      while (from < l.to && text.charCodeAt(from) === 0x20) from++;
      if (from === l.to) {
        // `-` alone: the item is the block below it, or null.
        this.i++;
        const next = this.lines[this.i];
        out.push(next && next.indent > indent ? this.block(next.indent) : null);
        continue;
      }
      const col = indent + (from - l.from);
      if (this.isSeqItem({ indent: col, from, to: l.to })) throw GIVE_UP; // `- - x`: nested compact sequences
      if (this.keyEnd(from, l.to) >= 0) {
        // `- key: value`: a compact mapping whose keys sit at the column of the first one.
        out.push(this.map(col, from));
      } else {
        out.push(this.scalar(from, l.to));
        this.i++;
        this.noDeeper(indent);
      }
    }
    // push() grows an array to 17 slots or by half: what the store keeps, it keeps for as long
    // as the object lives (100,000 EndpointSlice endpoints each hold a one-address array).
    return out.slice();
  }

  /**
   * A block mapping whose keys are at `indent`. Its first key starts at `firstFrom` (which,
   * in `- key: value`, is inside the line of the sequence item).
   */
  private map(indent: number, firstFrom: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const text = this.text;
    let from = firstFrom;
    for (;;) {
      const l = this.lines[this.i]!;
      const colon = this.keyEnd(from, l.to);
      if (colon < 0) throw GIVE_UP;
      const key = this.own(text.slice(from, colon));
      if (!KEY_RE.test(key) || key === '__proto__' || typeof resolvePlain(key) !== 'string' || Object.prototype.hasOwnProperty.call(out, key)) throw GIVE_UP;
      let v = colon + 1;
      while (v < l.to && text.charCodeAt(v) === 0x20) v++;
      this.i++;
      let value: unknown;
      if (v === l.to || text.charCodeAt(v) === 0x23 /* # */) {
        const next = this.lines[this.i];
        if (next && next.indent > indent) value = this.block(next.indent);
        // A sequence may sit at its key's own indentation (`ports:` then `- name: http`).
        else if (next && next.indent === indent && this.isSeqItem(next)) value = this.seq(indent, true);
        else value = null;
      } else {
        value = this.scalar(v, l.to);
        this.noDeeper(indent);
      }
      out[key] = value;
      const next = this.lines[this.i];
      if (!next || next.indent < indent) return out;
      if (next.indent > indent) throw GIVE_UP;
      if (this.isSeqItem(next)) throw GIVE_UP; // `- x` beside keys is not YAML: the full parser says why
      from = next.from;
    }
  }

  /** After a scalar on its line: a more indented line would be a multi-line scalar (or an error). */
  private noDeeper(indent: number): void {
    const next = this.lines[this.i];
    if (next && next.indent > indent) throw GIVE_UP;
  }

  /** Offset of the `:` that ends a plain key starting at `from` (followed by a space or the end of the line), or -1. */
  private keyEnd(from: number, to: number): number {
    const text = this.text;
    const c = text.charCodeAt(from);
    if (c === 0x22 || c === 0x27 || c === 0x3f /* ? */ || c === 0x5b || c === 0x7b) return -1;
    for (let k = from; k < to; k++) {
      const ch = text.charCodeAt(k);
      if (ch === 0x3a && (k + 1 === to || text.charCodeAt(k + 1) === 0x20)) return k;
      if (ch === 0x23 && text.charCodeAt(k - 1) === 0x20) return -1;
    }
    return -1;
  }

  /** A one-line scalar from `from` to the end of the line `to` (a trailing comment allowed). */
  private scalar(from: number, to: number): unknown {
    const text = this.text;
    const c = text.charCodeAt(from);
    if (c === 0x27 /* ' */ || c === 0x22 /* " */) {
      const [value, end] = this.quoted(from, to);
      this.rest(end, to);
      return value;
    }
    // Indicators a plain scalar cannot start with, or that start something this reader leaves alone.
    if (c === 0x5b /* [ */) return this.flowSeq(from, to);
    if (c === 0x7b /* { */) {
      if (text.charCodeAt(from + 1) !== 0x7d) throw GIVE_UP; // flow mappings: the full parser
      this.rest(from + 2, to);
      return {};
    }
    if ('&*!|>%@`,?:#]}'.includes(text[from]!) || (c === 0x2d && (from + 1 === to || text.charCodeAt(from + 1) === 0x20))) throw GIVE_UP;
    // A plain scalar ends at ` #` (a comment); `: ` inside it would be a mapping on the same line.
    let end = to;
    for (let k = from; k < to; k++) {
      const ch = text.charCodeAt(k);
      if (ch === 0x23 && text.charCodeAt(k - 1) === 0x20) {
        end = k;
        break;
      }
      if (ch === 0x3a && (k + 1 === to || text.charCodeAt(k + 1) === 0x20)) throw GIVE_UP;
    }
    while (end > from && text.charCodeAt(end - 1) === 0x20) end--;
    const v = resolvePlain(text.slice(from, end));
    return typeof v === 'string' ? this.own(v) : v;
  }

  /** A quoted scalar starting at `from` on one line (no escapes): its value and the offset after the closing quote. */
  private quoted(from: number, to: number): [string, number] {
    const text = this.text;
    const q = text.charCodeAt(from);
    let k = from + 1;
    let out = '';
    let chunk = k;
    for (;;) {
      if (k >= to) throw GIVE_UP; // no closing quote on this line: a multi-line scalar
      const ch = text.charCodeAt(k);
      if (q === 0x22 && ch === 0x5c /* \ */) throw GIVE_UP; // escapes: the full parser
      if (ch === q) {
        if (q === 0x27 && text.charCodeAt(k + 1) === 0x27) {
          out += text.slice(chunk, k + 1);
          k += 2;
          chunk = k;
          continue;
        }
        return [this.own(out + text.slice(chunk, k)), k + 1];
      }
      k++;
    }
  }

  /** `[a, "b", 1]` on one line: scalars only (nested flow collections: the full parser). */
  private flowSeq(from: number, to: number): unknown[] {
    const text = this.text;
    const out: unknown[] = [];
    let k = this.rest(from + 1, to, true);
    if (text.charCodeAt(k) === 0x5d) {
      this.rest(k + 1, to);
      return out;
    }
    for (;;) {
      const c = text.charCodeAt(k);
      let end: number;
      if (c === 0x27 || c === 0x22) {
        const [v, after] = this.quoted(k, to);
        out.push(v);
        end = this.rest(after, to, true);
      } else {
        end = k;
        while (end < to && !',]'.includes(text[end]!)) {
          // Characters that mean something else in a flow collection, or a comment.
          if ('[]{}#:\'"'.includes(text[end]!)) throw GIVE_UP;
          end++;
        }
        let e = end;
        while (e > k && text.charCodeAt(e - 1) === 0x20) e--;
        if (e === k || '&*!|>%@`?-'.includes(text[k]!)) throw GIVE_UP; // empty entry, or an indicator
        const v = resolvePlain(text.slice(k, e));
        out.push(typeof v === 'string' ? this.own(v) : v);
      }
      if (end >= to) throw GIVE_UP; // not closed on this line
      if (text.charCodeAt(end) === 0x5d) {
        this.rest(end + 1, to);
        return out;
      }
      if (text.charCodeAt(end) !== 0x2c) throw GIVE_UP;
      k = this.rest(end + 1, to, true);
      if (k >= to || text.charCodeAt(k) === 0x5d) throw GIVE_UP; // `[a, ]`
    }
  }

  /** Only spaces and a comment may follow a quoted scalar; returns where non-space text starts (`peek`) or checks that none does. */
  private rest(k: number, to: number, peek = false): number {
    const text = this.text;
    let j = k;
    while (j < to && text.charCodeAt(j) === 0x20) j++;
    if (peek) return j;
    if (j < to && !(text.charCodeAt(j) === 0x23 && j > k)) throw GIVE_UP;
    return j;
  }
}

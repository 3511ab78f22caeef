// smol-toml returns plain values without source positions, so config issues
// are positioned by this scanner instead. It reads just enough TOML to know
// where each key, table header and array element starts: headers, dotted and
// quoted keys, and the full extent of every value (strings, arrays, inline
// tables), so that text inside a value is never mistaken for a key.
//
// It runs on documents smol-toml has already accepted; on anything else it
// still terminates and returns whatever it recognised.

export interface Position {
  line: number;
  column: number;
}

/** One step of a path: a key, or an index into an array. */
export type Segment = string | number;

/** Canonical path (see formatPath) → where it is defined in the source. */
export type KeyIndex = ReadonlyMap<string, Position>;

const BARE_KEY = /^[A-Za-z0-9_-]+$/;
const BARE_KEY_CHAR = /[A-Za-z0-9_-]/;
const PATH_TOKEN = /\[(\d+)\]|"((?:[^"\\]|\\.)*)"|([A-Za-z0-9_-]+)/g;
// Where a bare value (number, boolean, date) ends.
const VALUE_END = /[\s,\]}#]/;
const ESCAPE = /\\(?:u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|x([0-9a-fA-F]{2})|([\s\S]))/g;
const SIMPLE_ESCAPES: Record<string, string> = { b: '\b', t: '\t', n: '\n', f: '\f', r: '\r', e: '\x1b', '"': '"', '\\': '\\' };

/** `peers[1].public_key`; keys that are not bare are written as JSON strings. */
export function formatPath(segments: readonly Segment[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else out += (out === '' ? '' : '.') + (BARE_KEY.test(s) ? s : JSON.stringify(s));
  }
  return out;
}

export function indexKeys(text: string): KeyIndex {
  return new Scanner(text).run();
}

/**
 * Where `path` is defined; failing that, where its nearest enclosing key or
 * table header is (a missing key is reported at its table); failing that, 1:1.
 */
export function locate(index: KeyIndex, path: string): Position {
  const segments = parsePath(path);
  for (let n = segments.length; n > 0; n--) {
    const found = index.get(formatPath(segments.slice(0, n)));
    if (found !== undefined) return found;
  }
  return { line: 1, column: 1 };
}

function parsePath(path: string): Segment[] {
  const segments: Segment[] = [];
  for (const m of path.matchAll(PATH_TOKEN)) {
    if (m[1] !== undefined) segments.push(Number(m[1]));
    else if (m[2] !== undefined) segments.push(JSON.parse(`"${m[2]}"`) as string);
    else segments.push(m[3]!);
  }
  return segments;
}

class Scanner {
  private i = 0;
  private readonly found = new Map<string, Position>();
  // How many [[x]] headers each array of tables has had so far, by canonical path.
  private readonly tableArrayLengths = new Map<string, number>();
  private readonly lineStarts: number[] = [0];

  constructor(private readonly s: string) {
    for (let k = 0; k < s.length; k++) if (s[k] === '\n') this.lineStarts.push(k + 1);
  }

  run(): KeyIndex {
    let table: Segment[] = [];
    while (this.i < this.s.length) {
      this.skipBlank(true);
      if (this.i >= this.s.length) break;
      if (this.s[this.i] === '[') table = this.header();
      else this.keyValue(table);
      this.skipToNextLine();
    }
    return this.found;
  }

  private header(): Segment[] {
    const start = this.i;
    const isArray = this.s.startsWith('[[', this.i);
    this.i += isArray ? 2 : 1;
    const keys = this.key();
    const path: Segment[] = [];
    keys.forEach((k, n) => {
      path.push(k);
      const name = formatPath(path);
      const length = this.tableArrayLengths.get(name);
      if (n === keys.length - 1 && isArray) {
        this.mark(path, start, false);
        this.tableArrayLengths.set(name, (length ?? 0) + 1);
        path.push(length ?? 0);
      } else if (length !== undefined) {
        // [a.b] after [[a]] means b inside the latest a.
        path.push(length - 1);
      }
      this.mark(path, start, n === keys.length - 1);
    });
    return path;
  }

  private keyValue(base: readonly Segment[]): void {
    const start = this.i;
    const keys = this.key();
    if (keys.length === 0) return;
    const path = [...base];
    keys.forEach((k, n) => {
      path.push(k);
      this.mark(path, start, n === keys.length - 1);
    });
    this.skipBlank(false);
    if (this.s[this.i] !== '=') return;
    this.i++;
    this.skipBlank(false);
    this.value(path);
  }

  /** A possibly dotted key; [] if there is none here. */
  private key(): string[] {
    const keys: string[] = [];
    for (;;) {
      this.skipBlank(false);
      const c = this.s[this.i];
      if (c === '"' || c === "'") {
        const start = this.i;
        this.singleLineString(c);
        const body = this.s.slice(start + 1, this.i - 1);
        keys.push(c === '"' ? unescape(body) : body);
      } else {
        const start = this.i;
        while (this.i < this.s.length && BARE_KEY_CHAR.test(this.s[this.i]!)) this.i++;
        if (this.i === start) return keys;
        keys.push(this.s.slice(start, this.i));
      }
      this.skipBlank(false);
      if (this.s[this.i] !== '.') return keys;
      this.i++;
    }
  }

  private value(path: readonly Segment[]): void {
    const c = this.s[this.i];
    if (c === '"' || c === "'") {
      if (this.s.startsWith(c.repeat(3), this.i)) this.multiLineString(c);
      else this.singleLineString(c);
    } else if (c === '[') {
      this.array(path);
    } else if (c === '{') {
      this.inlineTable(path);
    } else {
      this.bareValue();
    }
  }

  private array(path: readonly Segment[]): void {
    this.i++;
    for (let n = 0; ; n++) {
      this.skipBlank(true);
      if (this.i >= this.s.length) return;
      if (this.s[this.i] === ']') break;
      const start = this.i;
      this.mark([...path, n], start, true);
      this.value([...path, n]);
      if (this.i === start) this.i++; // not a value: step over it rather than loop
      this.skipBlank(true);
      if (this.s[this.i] === ',') this.i++;
    }
    this.i++;
  }

  private inlineTable(path: readonly Segment[]): void {
    this.i++;
    for (;;) {
      this.skipBlank(true);
      if (this.i >= this.s.length) return;
      if (this.s[this.i] === '}') break;
      const start = this.i;
      this.keyValue(path);
      if (this.i === start) this.i++;
      this.skipBlank(true);
      if (this.s[this.i] === ',') this.i++;
    }
    this.i++;
  }

  private singleLineString(quote: string): void {
    this.i++;
    while (this.i < this.s.length && this.s[this.i] !== quote && this.s[this.i] !== '\n') {
      this.i += quote === '"' && this.s[this.i] === '\\' ? 2 : 1;
    }
    this.i++;
  }

  private multiLineString(quote: string): void {
    const delimiter = quote.repeat(3);
    this.i += 3;
    while (this.i < this.s.length && !this.s.startsWith(delimiter, this.i)) {
      this.i += quote === '"' && this.s[this.i] === '\\' ? 2 : 1;
    }
    this.i += 3;
    // Up to two quotes right before the closing delimiter belong to the content.
    for (let extra = 0; extra < 2 && this.s[this.i] === quote; extra++) this.i++;
  }

  private bareValue(): void {
    const start = this.i;
    while (this.i < this.s.length && !VALUE_END.test(this.s[this.i]!)) this.i++;
    // A date and a time may be separated by a space: 1979-05-27 07:32:00Z.
    if (/^\d{4}-\d{2}-\d{2}$/.test(this.s.slice(start, this.i)) && /^ \d/.test(this.s.slice(this.i, this.i + 2))) {
      this.i++;
      this.bareValue();
    }
  }

  /** Spaces, tabs and comments; also line breaks when `newlines`. */
  private skipBlank(newlines: boolean): void {
    while (this.i < this.s.length) {
      const c = this.s[this.i];
      if (c === ' ' || c === '\t' || (newlines && (c === '\n' || c === '\r'))) this.i++;
      else if (c === '#') while (this.i < this.s.length && this.s[this.i] !== '\n') this.i++;
      else return;
    }
  }

  private skipToNextLine(): void {
    while (this.i < this.s.length && this.s[this.i] !== '\n') this.i++;
    this.i++;
  }

  // The last segment of a path is defined where it is written; its prefixes
  // (implicit tables) are defined where they first appear.
  private mark(path: readonly Segment[], offset: number, definitive: boolean): void {
    const name = formatPath(path);
    if (definitive || !this.found.has(name)) this.found.set(name, this.position(offset));
  }

  private position(offset: number): Position {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - this.lineStarts[lo]! + 1 };
  }
}

function unescape(body: string): string {
  return body.replace(ESCAPE, (all: string, u4?: string, u8?: string, x2?: string, single?: string) => {
    const hex = u4 ?? u8 ?? x2;
    // An out-of-range \U escape makes the document invalid; keep the text rather than throw.
    if (hex !== undefined) return parseInt(hex, 16) <= 0x10ffff ? String.fromCodePoint(parseInt(hex, 16)) : all;
    return SIMPLE_ESCAPES[single!] ?? single!;
  });
}

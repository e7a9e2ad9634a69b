// The audit table's Scan pages read as text: each item's canonical JSON (what its hash covers) and its key attributes, in one pass, without JSON.parse.
//
// JSON.parse of a page builds an object per attribute value (`{"S": …}`) and a string per value, and the
// canonical writer then walks them again: about 12 µs and 5 µs a record of the 871-byte records of
// docs/BENCHMARKS.md ("Reports over a large audit log"). The canonical form of a string or an integer
// is the page's own text of it whenever that text has no escape (JSON.stringify writes the same), so
// this scanner only finds where each value starts and ends (indexOf for string ends) and joins those
// slices in sorted-name order. Anything it does not read the ordinary way (whitespace, sets, binary,
// numbers outside the safe range, duplicate names, a malformed page) makes `scan` return undefined,
// and the caller JSON.parses the page and goes the old way, so the result or the error is the old one.
// test/unit/audit/page-scanner.test.ts checks the output against that path item by item.
// Wire format: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.LowLevelAPI.html
import { isAscii } from 'node:buffer';
import { hash as hashBytes } from 'node:crypto';
import type { WireItem } from '../dynamo/attribute-values.ts';
import { AUDIT_KEYS } from '../dynamo/tables.ts';
import { NOT_HASHED, SEQ_WIDTH, entryFromWire, keysOf, recordOfWireItem, type ChainEntry } from './chain.ts';
import { shapeOf, type Shape } from './canonical-wire.ts';
import type { RecordFields, StoredAuditRecord } from './types.ts';

/** The page an item was read from: its latin1 text and its bytes (which scanning positions index alike). */
interface PageSource {
  readonly text: string;
  readonly body: Buffer;
}

/**
 * One item of a page: where its JSON is in the page, the sha256 of its canonical JSON, the attributes the
 * chain checks read, and (a regular item) its chain entry itself: one object a record, not an item, an
 * entry and a key-check result.
 */
export class ScannedItem implements ChainEntry {
  #record: StoredAuditRecord | undefined;

  constructor(
    private readonly page: PageSource,
    readonly start: number,
    readonly end: number,
    /** False when a key attribute has another type than usual or an escape: the item then goes the converting way. */
    readonly regular: boolean,
    readonly pk: string | undefined,
    readonly partition: string | undefined,
    readonly hash: string | undefined,
    readonly prevHash: string | undefined,
    readonly time: string | undefined,
    readonly seq: number | undefined,
    /** The record's top-level fields a counting report reads, when each is a string without escapes (and time and seq are there). */
    readonly fields: RecordFields | undefined,
    /** The item holds a non-ASCII character: its text is read from the page's bytes as UTF-8. */
    readonly high: boolean,
    /** sha256 (hex) of the canonical JSON of every attribute but the derived keys and `hash`. */
    private readonly canonicalHash: string,
    /** That canonical JSON itself, when the scanner was asked to keep it (AuditPageScanner's `keep`); dropped once parsed. */
    private canonical: string | undefined,
    /** The key checks (keysOf), made by the scanner on the page's text. */
    readonly keySeq: number,
    readonly keyMismatch: string | undefined,
    readonly keyPartition: string | undefined,
  ) {}

  /**
   * The stored record, converted once: parsed from its kept canonical JSON (plain JSON, about two thirds
   * of the item's wire JSON and nothing to convert) with `hash` added, or else from the item's text (its
   * bytes when it holds non-ASCII) JSON.parsed and converted. Either gives the same record; only the
   * order of the names differs (sorted, against the page's).
   */
  get record(): StoredAuditRecord {
    if (this.#record === undefined) {
      if (this.canonical !== undefined) {
        const r = JSON.parse(this.canonical) as { hash?: string };
        if (this.hash !== undefined) r.hash = this.hash;
        this.#record = r as StoredAuditRecord;
        this.canonical = undefined;
      } else this.#record = recordOfWireItem(itemJson(this.page, this));
    }
    return this.#record;
  }

  contentHash(): string {
    return this.canonicalHash;
  }

  /** Its chain entry: itself, or (an irregular item) its JSON parsed and taken the converting way (entryFromWire). */
  entry(): ChainEntry {
    return this.regular ? this : entryFromWire(itemJson(this.page, this));
  }
}

export interface ScannedPage {
  readonly items: ScannedItem[];
  readonly lastEvaluatedKey: WireItem | undefined;
}

/** Thrown inside the scan when the page must go the JSON.parse way; one instance, so throwing captures no stack. */
const IRREGULAR = new Error('irregular page');

/** Names in the tries, at most: a log has a few hundred; past this, new names are read each time. */
const MAX_NAME_NODES = 8192;
const NOT_HASHED_SET: ReadonlySet<string> = new Set(NOT_HASHED);
const NO_NAMES: ReadonlySet<string> = new Set();

/** The top-level attributes the scanner decodes: the key ones first (up to Time), then the counted ones. */
const enum Field {
  None,
  Pk,
  Sk,
  TimeKey,
  Partition,
  Hash,
  PrevHash,
  Time,
  Seq,
  Action,
  Outcome,
  Actor,
  Repository,
  ErrorCode,
}

/** The decoded top-level attributes by name. */
const FIELDS: ReadonlyMap<string, Field> = new Map([
  [AUDIT_KEYS.partitionKey, Field.Pk],
  [AUDIT_KEYS.sortKey, Field.Sk],
  [AUDIT_KEYS.timeKey, Field.TimeKey],
  ['partition', Field.Partition],
  ['hash', Field.Hash],
  ['prevHash', Field.PrevHash],
  ['time', Field.Time],
  ['seq', Field.Seq],
  ['action', Field.Action],
  ['outcome', Field.Outcome],
  ['actor', Field.Actor],
  ['repository', Field.Repository],
  ['errorCode', Field.ErrorCode],
]);

/** A map shape's `"name":` prefixes (the first without its comma) as UTF-8 bytes, one after the other. */
interface PrefixBytes {
  readonly bytes: Uint8Array;
  /** Where prefix i starts in `bytes`; `at[n]` is its length. */
  readonly at: Int32Array;
}

/** One name after the names on the path to it, in a map's page order. */
interface NameNode {
  /** `"name":` as the page writes it. */
  readonly token: string;
  readonly escaped: boolean;
  readonly field: Field;
  /** The names of the path, this one last. */
  readonly names: readonly string[];
  readonly children: NameNode[];
  /** The shape of a map whose names are this path, once one has ended here, and its prefixes' bytes. */
  shape: Shape | undefined;
  prefixes: PrefixBytes | undefined;
}

function newRoot(): NameNode {
  return { token: '', escaped: false, field: Field.None, names: [], children: [], shape: undefined, prefixes: undefined };
}

const enum Kind {
  S,
  N,
  Other,
}

const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const COLON = 58;
const MINUS = 45;
const HASH_SIGN = 35;
const ZERO = 48;
const NINE = 57;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const BYTES_TRUE = Buffer.from('true');
const BYTES_FALSE = Buffer.from('false');
const BYTES_NULL = Buffer.from('null');
/** The scanner's page between scans. */
const NO_PAGE: PageSource = { text: '', body: Buffer.alloc(0) };

/**
 * Reads Scan pages of the audit table. One scanner per thread: it keeps the map shapes it has seen.
 *
 * Each value's canonical form is a range of bytes: of the page itself for a string or an integer
 * without escapes (its own canonical form), or of the scanner's arena, where a map's or a list's
 * canonical form is written when it closes (its members' ranges copied in sorted-name order) and an
 * escaped value's re-serialised form. The item's own canonical JSON is written there last and hashed
 * from there: no string a value, no rope to flatten, no UTF-8 encoding of it (the page's bytes are the
 * UTF-8 already). Before, those strings were a third of a worker's garbage.
 *
 * @example
 * const page = new AuditPageScanner().scan(text, body) ?? fallback(JSON.parse(text));
 */
export class AuditPageScanner {
  /**
   * Which regular items the reader will want the record of (given their fields, undefined when not all
   * plain): their canonical JSON is kept as a string, and `record` parses that, not the wire JSON.
   */
  private readonly keep: ((fields: RecordFields | undefined) => boolean) | undefined;
  /** The member names seen, as tries: of items, and of the maps inside them. */
  private readonly topNames = newRoot();
  private readonly nestedNames = newRoot();
  private nodes = 0;
  private text = '';
  private source: PageSource = NO_PAGE;
  private bytes: Uint8Array = NO_PAGE.body;
  private pos = 0;
  /** The first backslash at or after `pos`, or -1: a string that ends before it has no escape. */
  private backslash = -1;
  /** Set by `string()`: whether the string just read had an escape (or a non-ASCII character). */
  private escaped = false;
  /** The runs of bytes >= 0x80 of the page (the text is their latin1 reading); none on an ASCII page. */
  private runs: readonly (readonly [number, number])[] = [];
  private runAt = 0;
  /** Set by `string()` when the string holds a non-ASCII character. */
  private itemHigh = false;
  /** False when the item's canonical JSON does not parse back to its record (a -0): `keep` is then not honoured. */
  private itemExact = true;
  /** Set by `value()`: the kind of the value just read, and for S and N where its string is. */
  private kind = Kind.Other;
  private valueStart = 0;
  private valueEnd = 0;
  /** Canonical forms written while an item is read (reset at each item); grown when an item needs more. */
  private arena = Buffer.allocUnsafe(1 << 16);
  private at = 0;
  /**
   * The values read and not yet written into their container, as pairs: [start, end) of the page, or of
   * the arena when the end is stored as its complement (negative). A map's members are pushed and popped
   * together, so nested maps share the stack.
   */
  private refs = new Int32Array(512);
  private sp = 0;

  constructor(options: { readonly keep?: (fields: RecordFields | undefined) => boolean } = {}) {
    this.keep = options.keep;
  }

  /**
   * The page's items and cursor, or undefined when the page must be JSON.parsed. `text` is the page
   * read as latin1 and `body` its bytes; without `body` (a page already decoded to a string), the
   * bytes are its UTF-8.
   */
  scan(text: string, body?: Buffer): ScannedPage | undefined {
    if (!body) {
      body = Buffer.from(text, 'utf8');
      // A decoded non-ASCII page: scanned as the lean reader scans one, from its bytes' latin1 reading.
      if (body.length !== text.length) text = body.toString('latin1');
    }
    this.text = text;
    this.bytes = body;
    this.source = { text, body };
    this.runs = nonAsciiRuns(body);
    this.runAt = 0;
    this.pos = 0;
    this.backslash = text.indexOf('\\');
    try {
      return this.page();
    } catch {
      // IRREGULAR, or a JSON.parse of an escaped string or of the cursor failing: the page's own JSON.parse says what is wrong.
      return undefined;
    } finally {
      // Nothing of the page is held between pages.
      this.text = '';
      this.bytes = NO_PAGE.body;
      this.source = NO_PAGE;
      this.sp = 0;
    }
  }

  private page(): ScannedPage {
    const t = this.text;
    let items: ScannedItem[] = [];
    let lastEvaluatedKey: WireItem | undefined;
    if (!this.empty(OPEN_BRACE, CLOSE_BRACE))
      do {
        const name = this.name();
        this.expect(COLON);
        if (name === 'Items') items = this.items();
        else if (name === 'LastEvaluatedKey') {
          const start = this.pos;
          this.skip();
          lastEvaluatedKey = this.json(start, this.pos) as WireItem;
        } else this.skip();
      } while (this.more(CLOSE_BRACE));
    if (this.pos !== t.length) throw IRREGULAR;
    return { items, lastEvaluatedKey };
  }

  private items(): ScannedItem[] {
    const out: ScannedItem[] = [];
    if (!this.empty(OPEN_BRACKET, CLOSE_BRACKET))
      do out.push(this.item());
      while (this.more(CLOSE_BRACKET));
    return out;
  }

  private item(): ScannedItem {
    const t = this.text;
    const start = this.pos;
    let partition, hash, prevHash, time, action, outcome, actor, repository, errorCode: string | undefined;
    let seq: number | undefined;
    // The key attributes' strings (and the ones they are checked against) as ranges of the page, [at, end): compared there, sliced only when they differ.
    let pkAt = -1,
      pkEnd = -1,
      skAt = -1,
      skEnd = -1,
      timeKeyAt = -1,
      timeKeyEnd = -1,
      partitionAt = -1,
      partitionEnd = -1,
      timeAt = -1,
      timeEnd = -1,
      seqAt = -1,
      seqEnd = -1;
    let regular = true;
    /** action, outcome, actor and (when there) repository and errorCode are strings without escapes. */
    let plainFields = true;
    let node = this.topNames;
    this.itemHigh = false;
    this.itemExact = true;
    this.at = 0;
    this.sp = 0;
    if (!this.empty(OPEN_BRACE, CLOSE_BRACE))
      do {
        node = this.member(node, true);
        this.value();
        const field = node.field;
        if (field !== Field.None) {
          // Only these attributes are decoded. A key one of another type or with an escape sends the item the converting way.
          const plain = this.kind === Kind.S && !this.escaped;
          const from = this.valueStart + 1;
          const to = this.valueEnd;
          switch (field) {
            case Field.Seq:
              if (this.kind === Kind.N) {
                seq = Number(t.slice(from, to));
                seqAt = from;
                seqEnd = to;
              } else regular = false;
              break;
            case Field.Pk:
              if (plain) {
                pkAt = from;
                pkEnd = to;
              }
              break;
            case Field.Sk:
              if (plain) {
                skAt = from;
                skEnd = to;
              }
              break;
            case Field.TimeKey:
              if (plain) {
                timeKeyAt = from;
                timeKeyEnd = to;
              }
              break;
            case Field.Partition:
              if (plain) {
                partition = t.slice(from, to);
                partitionAt = from;
                partitionEnd = to;
              }
              break;
            case Field.Hash:
              if (plain) hash = t.slice(from, to);
              break;
            case Field.PrevHash:
              if (plain) prevHash = t.slice(from, to);
              break;
            case Field.Time:
              if (plain) {
                time = t.slice(from, to);
                timeAt = from;
                timeEnd = to;
              }
              break;
            case Field.Action:
              if (plain) action = t.slice(from, to);
              break;
            case Field.Outcome:
              if (plain) outcome = t.slice(from, to);
              break;
            case Field.Actor:
              if (plain) actor = t.slice(from, to);
              break;
            case Field.Repository:
              if (plain) repository = t.slice(from, to);
              break;
            case Field.ErrorCode:
              if (plain) errorCode = t.slice(from, to);
              break;
          }
          if (!plain && field !== Field.Seq) {
            if (field < Field.Seq) regular = false;
            else plainFields = false;
          }
        }
      } while (this.more(CLOSE_BRACE));
    // One shape for every fields object (absent ones undefined), so the readers of a million of them stay monomorphic.
    const fields: RecordFields | undefined =
      plainFields && action !== undefined && outcome !== undefined && actor !== undefined && time !== undefined && seq !== undefined
        ? { time, seq, action, outcome, actor, repository, errorCode }
        : undefined;
    const from = this.at;
    this.join(node, NOT_HASHED_SET, 0);
    const content = hashBytes('sha256', this.arena.subarray(from, this.at), 'hex');
    const canonical = regular && this.itemExact && this.keep !== undefined && this.keep(fields) ? this.arena.toString('utf8', from, this.at) : undefined;
    // The pk is the partition's text in a regular item: one string for both, not two.
    const pk = pkAt < 0 ? undefined : partition !== undefined && this.same(pkAt, pkEnd, partitionAt, partitionEnd) ? partition : t.slice(pkAt, pkEnd);
    let keySeq = NaN;
    let keyMismatch: string | undefined;
    let keyPartition: string | undefined;
    if (regular) {
      if (pk === partition && seq !== undefined && this.keysMatch(skAt, skEnd, timeKeyAt, timeKeyEnd, partitionAt, partitionEnd, timeAt, timeEnd, seqAt, seqEnd)) keySeq = seq;
      else {
        // Something differs: keysOf says what, from the strings.
        const keys = keysOf(pk, skAt < 0 ? undefined : t.slice(skAt, skEnd), timeKeyAt < 0 ? undefined : t.slice(timeKeyAt, timeKeyEnd), { partition, seq, time } as Pick<StoredAuditRecord, 'partition' | 'seq' | 'time'>);
        keySeq = keys.keySeq;
        keyMismatch = keys.keyMismatch;
        keyPartition = keys.keyPartition;
      }
    }
    return new ScannedItem(this.source, start, this.pos, regular, pk, partition, hash, prevHash, time, seq, fields, this.itemHigh, content, canonical, keySeq, keyMismatch, keyPartition);
  }

  /** Whether the page holds the same bytes in [a, aEnd) and [b, bEnd). */
  private same(a: number, aEnd: number, b: number, bEnd: number): boolean {
    if (aEnd - a !== bEnd - b) return false;
    const bytes = this.bytes;
    for (let i = 0; i < aEnd - a; i++) if (bytes[a + i] !== bytes[b + i]) return false;
    return true;
  }

  /**
   * True when the sort key is the seq written as formatSeq writes it and the time index's key is
   * `<time>#<partition>#<sort key>` (timeKeyOf), compared on the page's text: what keysOf checks of a
   * regular item, without the strings it builds. A seq written otherwise than canonically (leading
   * zeros, a sign, more than SEQ_WIDTH digits) is left to keysOf.
   */
  private keysMatch(skAt: number, skEnd: number, tkAt: number, tkEnd: number, pAt: number, pEnd: number, timeAt: number, timeEnd: number, seqAt: number, seqEnd: number): boolean {
    if (skAt < 0 || tkAt < 0 || pAt < 0 || timeAt < 0 || seqAt < 0) return false;
    const bytes = this.bytes;
    const digits = seqEnd - seqAt;
    if (skEnd - skAt !== SEQ_WIDTH || digits < 1 || digits > SEQ_WIDTH || bytes[seqAt]! <= ZERO || bytes[seqAt]! > NINE) return false;
    const pad = SEQ_WIDTH - digits;
    for (let i = 0; i < pad; i++) if (bytes[skAt + i] !== ZERO) return false;
    for (let i = 0; i < digits; i++) {
      const c = bytes[seqAt + i]!;
      if (c < ZERO || c > NINE || bytes[skAt + pad + i] !== c) return false;
    }
    const timeLen = timeEnd - timeAt;
    const pLen = pEnd - pAt;
    if (tkEnd - tkAt !== timeLen + 1 + pLen + 1 + SEQ_WIDTH) return false;
    const hashAt = tkAt + timeLen;
    return (
      this.same(tkAt, hashAt, timeAt, timeEnd) &&
      bytes[hashAt] === HASH_SIGN &&
      this.same(hashAt + 1, hashAt + 1 + pLen, pAt, pEnd) &&
      bytes[hashAt + 1 + pLen] === HASH_SIGN &&
      this.same(tkEnd - SEQ_WIDTH, tkEnd, skAt, skEnd)
    );
  }

  /**
   * The member name at `pos` and the colon after it, as the child of `node` it matches: the page's text
   * is compared with the names seen before in that place, so a known name is never sliced out.
   */
  private member(node: NameNode, top: boolean): NameNode {
    const t = this.text;
    const p = this.pos;
    for (const child of node.children)
      if (t.startsWith(child.token, p)) {
        this.pos = p + child.token.length;
        if (child.escaped) {
          this.backslash = t.indexOf('\\', this.pos);
          // Perhaps a non-ASCII name: the item's record is then parsed from the bytes.
          if (this.runs.length > 0) this.itemHigh = true;
        }
        return child;
      }
    const end = this.string();
    const escaped = this.escaped;
    const name = escaped ? (this.json(p, end + 1) as string) : t.slice(p + 1, end);
    this.expect(COLON);
    const child: NameNode = { token: t.slice(p, this.pos), escaped, field: top ? (FIELDS.get(name) ?? Field.None) : Field.None, names: [...node.names, name], children: [], shape: undefined, prefixes: undefined };
    // Bounded: a log of ever-new names must not grow memory without end (past the bound, names are matched again each time).
    if (this.nodes < MAX_NAME_NODES) {
      node.children.push(child);
      this.nodes += 1;
    }
    return child;
  }

  /**
   * Writes `{"name":value,…}` of a map's members into the arena, in sorted-name order, and pops their
   * values (pushed from `base` on); `node` is the last name's.
   */
  private join(node: NameNode, omit: ReadonlySet<string>, base: number): void {
    const shape = (node.shape ??= shapeOf(node.names, omit));
    // Duplicate names: JSON.parse keeps the last, which only the converting way reproduces.
    if (shape.duplicate) throw IRREGULAR;
    const prefixes = (node.prefixes ??= prefixBytesOf(shape));
    const { order } = shape;
    this.put(OPEN_BRACE);
    for (let i = 0; i < order.length; i++) {
      this.copy(prefixes.bytes, prefixes.at[i]!, prefixes.at[i + 1]!);
      this.copyRef(base + order[i]!);
    }
    this.put(CLOSE_BRACE);
    this.sp = base * 2;
  }

  /** One attribute value (`{"S":"…"}`, …) at `pos`: pushes the range of its canonical JSON. */
  private value(): void {
    const t = this.text;
    const p = this.pos;
    if (t.charCodeAt(p) !== OPEN_BRACE || t.charCodeAt(p + 1) !== QUOTE) throw IRREGULAR;
    const a = t.charCodeAt(p + 2);
    const b = t.charCodeAt(p + 3);
    if (b === QUOTE && t.charCodeAt(p + 4) === COLON && (a === 83 || a === 78 || a === 77 || a === 76)) {
      // S, N, M or L: a one-letter type.
      this.pos = p + 5;
      if (a === 83) {
        this.kind = Kind.S;
        const start = this.pos;
        const end = this.string();
        this.valueStart = start;
        this.valueEnd = end;
        if (this.escaped) this.pushString(JSON.stringify(this.json(start, end + 1) as string));
        else this.push(start, end + 1);
      } else if (a === 78) {
        this.kind = Kind.N;
        const start = this.pos;
        const end = this.string();
        if (this.escaped) throw IRREGULAR;
        this.valueStart = start;
        this.valueEnd = end;
        if (this.canonicalInteger(start + 1, end)) this.push(start + 1, end);
        else {
          const v = canonicalNumber(t.slice(start + 1, end));
          // -0 is written 0 (as JSON.stringify writes it): the canonical JSON then no longer gives the record's own value.
          if (v === '0' && t.charCodeAt(start + 1) === MINUS) this.itemExact = false;
          this.pushString(v);
        }
      } else if (a === 77) {
        this.map();
        this.kind = Kind.Other;
      } else {
        this.list();
        this.kind = Kind.Other;
      }
    } else if (t.startsWith('{"BOOL":', p) || t.startsWith('{"NULL":', p)) {
      this.pos = p + 8;
      let bool: boolean;
      if (t.startsWith('true', this.pos)) {
        bool = true;
        this.pos += 4;
      } else if (t.startsWith('false', this.pos)) {
        bool = false;
        this.pos += 5;
      } else throw IRREGULAR;
      this.pushBytes(a === 78 ? BYTES_NULL : bool ? BYTES_TRUE : BYTES_FALSE);
      this.kind = Kind.Other;
    } else throw IRREGULAR; // SS, NS, BS, B: a Set or bytes, which the converting way refuses or hashes its own way
    if (t.charCodeAt(this.pos) !== CLOSE_BRACE) throw IRREGULAR;
    this.pos += 1;
  }

  private map(): void {
    if (this.empty(OPEN_BRACE, CLOSE_BRACE)) return this.pushBytes(EMPTY_MAP);
    const base = this.sp >> 1;
    let node = this.nestedNames;
    do {
      node = this.member(node, false);
      this.value();
    } while (this.more(CLOSE_BRACE));
    const from = this.at;
    this.join(node, NO_NAMES, base);
    this.push(from, ~this.at);
  }

  private list(): void {
    if (this.empty(OPEN_BRACKET, CLOSE_BRACKET)) return this.pushBytes(EMPTY_LIST);
    const base = this.sp >> 1;
    let n = 0;
    do {
      this.value();
      n += 1;
    } while (this.more(CLOSE_BRACKET));
    const from = this.at;
    this.put(OPEN_BRACKET);
    for (let i = 0; i < n; i++) {
      if (i > 0) this.put(COMMA);
      this.copyRef(base + i);
    }
    this.put(CLOSE_BRACKET);
    this.sp = base * 2;
    this.push(from, ~this.at);
  }

  /** Whether the page's [start, end) is an integer that is its own canonical form: 0, or an optional minus, a non-zero digit and up to 14 more. */
  private canonicalInteger(start: number, end: number): boolean {
    const t = this.text;
    let i = start;
    if (t.charCodeAt(i) === MINUS) i += 1;
    const digits = end - i;
    if (digits < 1 || digits > 15) return false;
    const first = t.charCodeAt(i);
    if (first === ZERO) return digits === 1 && i === start;
    if (first < ZERO || first > NINE) return false;
    for (let k = i + 1; k < end; k++) {
      const c = t.charCodeAt(k);
      if (c < ZERO || c > NINE) return false;
    }
    return true;
  }

  /** Pushes a range of the page. */
  private push(start: number, end: number): void {
    if (this.sp === this.refs.length) {
      const grown = new Int32Array(this.refs.length * 2);
      grown.set(this.refs);
      this.refs = grown;
    }
    this.refs[this.sp++] = start;
    this.refs[this.sp++] = end;
  }

  /** Writes `bytes` into the arena and pushes their range there. */
  private pushBytes(bytes: Uint8Array): void {
    const from = this.at;
    this.copy(bytes, 0, bytes.length);
    this.push(from, ~this.at);
  }

  /** Writes `s` (a canonical form made as a string: an escaped string's, a number's) into the arena as UTF-8 and pushes its range. */
  private pushString(s: string): void {
    this.reserve(s.length * 3);
    const from = this.at;
    this.at += this.arena.write(s, from, 'utf8');
    this.push(from, ~this.at);
  }

  /** Copies value `i` of the stack (of the page or of the arena) to the arena's end. */
  private copyRef(i: number): void {
    const start = this.refs[2 * i]!;
    const end = this.refs[2 * i + 1]!;
    if (end >= 0) this.copy(this.bytes, start, end);
    else {
      // Grown first, so the copy reads the arena it writes to.
      this.reserve(~end - start);
      this.copy(this.arena, start, ~end);
    }
  }

  /**
   * Copies [start, end) of `from` to the arena's end. A loop, not Buffer#copy: most pieces are a few
   * dozen bytes, and each copy call makes a view of its source.
   */
  private copy(from: Uint8Array, start: number, end: number): void {
    this.reserve(end - start);
    const to = this.arena;
    let o = this.at;
    for (let k = start; k < end; k++) to[o++] = from[k]!;
    this.at = o;
  }

  private put(byte: number): void {
    this.reserve(1);
    this.arena[this.at++] = byte;
  }

  /** Room for `n` more bytes in the arena (an item is at most 400 KB, its nested forms a few times that). */
  private reserve(n: number): void {
    if (this.at + n <= this.arena.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.arena.length * 2, this.at + n));
    this.arena.copy(grown, 0, 0, this.at);
    this.arena = grown;
  }

  /** A member name at `pos`, decoded. */
  private name(): string {
    const start = this.pos;
    const end = this.string();
    return this.escaped ? (this.json(start, end + 1) as string) : this.text.slice(start + 1, end);
  }

  /** The JSON value in [start, end) of the page: from its bytes on a non-ASCII page. */
  private json(start: number, end: number): unknown {
    return JSON.parse(this.runs.length > 0 ? this.source.body.toString('utf8', start, end) : this.text.slice(start, end));
  }

  /** The string at `pos`: moves past it, sets `escaped` (an escape or a non-ASCII character), returns where its closing quote is. */
  private string(): number {
    const t = this.text;
    const p = this.pos;
    if (t.charCodeAt(p) !== QUOTE) throw IRREGULAR;
    let end = t.indexOf('"', p + 1);
    if (end < 0) throw IRREGULAR;
    if (this.backslash !== -1 && this.backslash < end) {
      let i = p + 1;
      for (;;) {
        const c = t.charCodeAt(i);
        if (c === BACKSLASH) i += 2;
        else if (c === QUOTE) break;
        else if (Number.isNaN(c)) throw IRREGULAR;
        else i += 1;
      }
      end = i;
      this.escaped = true;
      this.backslash = t.indexOf('\\', end);
    } else this.escaped = false;
    // A non-ASCII character: the latin1 text holds its UTF-8 bytes, so the string is decoded from the bytes (runs never cross a quote).
    const runs = this.runs;
    while (this.runAt < runs.length && runs[this.runAt]![1] <= p) this.runAt += 1;
    if (this.runAt < runs.length && runs[this.runAt]![0] < end) {
      this.escaped = true;
      this.itemHigh = true;
    }
    this.pos = end + 1;
    return end;
  }

  /** Moves past any JSON value (the page's counts, its cursor, members it does not know). */
  private skip(): void {
    const t = this.text;
    const c = t.charCodeAt(this.pos);
    if (c === QUOTE) {
      this.string();
      return;
    }
    if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      const close = c === OPEN_BRACE ? CLOSE_BRACE : CLOSE_BRACKET;
      if (this.empty(c, close)) return;
      do {
        if (c === OPEN_BRACE) {
          this.string();
          this.expect(COLON);
        }
        this.skip();
      } while (this.more(close));
      return;
    }
    // A number or a literal: up to the next delimiter.
    const start = this.pos;
    let i = start;
    for (let d = t.charCodeAt(i); i < t.length && d !== COMMA && d !== CLOSE_BRACE && d !== CLOSE_BRACKET; d = t.charCodeAt(++i));
    if (i === start || !/^(?:-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)$/.test(t.slice(start, i))) throw IRREGULAR;
    this.pos = i;
  }

  /** Moves past the `open` at `pos`; true when the container is empty (its `close` is then passed too). */
  private empty(open: number, close: number): boolean {
    this.expect(open);
    if (this.text.charCodeAt(this.pos) !== close) return false;
    this.pos += 1;
    return true;
  }

  /** After a member or element: true at a comma (another follows), false at `close`; either is passed. */
  private more(close: number): boolean {
    const c = this.text.charCodeAt(this.pos++);
    if (c === COMMA) return true;
    if (c === close) return false;
    throw IRREGULAR;
  }

  private expect(code: number): void {
    if (this.text.charCodeAt(this.pos) !== code) throw IRREGULAR;
    this.pos += 1;
  }
}

const EMPTY_MAP = Buffer.from('{}');
const EMPTY_LIST = Buffer.from('[]');

function prefixBytesOf(shape: Shape): PrefixBytes {
  const parts = shape.prefixes.map((p) => Buffer.from(p, 'utf8'));
  const at = new Int32Array(parts.length + 1);
  parts.forEach((b, i) => (at[i + 1] = at[i]! + b.length));
  return { bytes: Buffer.concat(parts), at };
}

/** The canonical form of a DynamoDB number that is not written as its own (canonical-wire.ts writes String(Number(n))); outside the safe range the converting way decides. */
function canonicalNumber(n: string): string {
  const v = Number(n);
  if (!Number.isFinite(v) || v > Number.MAX_SAFE_INTEGER || v < Number.MIN_SAFE_INTEGER) throw IRREGULAR;
  return String(v);
}

/**
 * A copy of `s` that shares no memory with the page it was read from. The scanner's strings are slices
 * of their 1 MB page (V8 makes a slice of 13 characters or more a view of its parent), so anything kept
 * past the page (a chain's name, a counter's key) must be detached, or it keeps the whole page alive.
 * Concatenating makes a new string, and slicing it flattens that into a copy: exact for every string.
 */
export function detach(s: string): string {
  return (' ' + s).slice(1);
}

/** The item's JSON, parsed: from the page's bytes when it holds a non-ASCII character. */
function itemJson(page: PageSource, item: Pick<ScannedItem, 'high' | 'start' | 'end'>): WireItem {
  return JSON.parse(item.high ? page.body.toString('utf8', item.start, item.end) : page.text.slice(item.start, item.end)) as WireItem;
}

/**
 * The maximal runs of bytes >= 0x80 of `body`, in order, found by halving with isAscii (vectorised): a
 * page has a few, and a JavaScript loop over its million bytes would cost more than the UTF-8 decoding
 * this avoids (about 3 ms a 1 MB page against 0.7 ms for latin1, measured on the audit log's pages).
 */
export function nonAsciiRuns(body: Buffer): [number, number][] {
  const runs: [number, number][] = [];
  const walk = (lo: number, hi: number): void => {
    if (lo >= hi || isAscii(body.subarray(lo, hi))) return;
    if (hi - lo > 256) {
      const mid = (lo + hi) >>> 1;
      walk(lo, mid);
      walk(mid, hi);
      return;
    }
    for (let i = lo; i < hi; i++) {
      if (body[i]! < 0x80) continue;
      let j = i + 1;
      while (j < hi && body[j]! >= 0x80) j++;
      const last = runs[runs.length - 1];
      if (last !== undefined && last[1] === i) last[1] = j;
      else runs.push([i, j]);
      i = j;
    }
  };
  walk(0, body.length);
  return runs;
}

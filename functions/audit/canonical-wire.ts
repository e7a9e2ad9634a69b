// canonicalJson (canonical-json.ts) of an item still in DynamoDB's wire JSON, in one pass, for the verifier's million records.
//
// Converting each item to plain values (attribute-values.ts) and then serialising those was about 11 µs a
// record here (docs/BENCHMARKS.md, "Reports over a large audit log"); writing the canonical form straight from
// the wire values, with each map shape's sorted names and `"name":` prefixes computed once, is about 5 µs,
// and the verifier need not convert a record at all. The output is byte for byte what
// `canonicalJsonOmitting(fromWireItem(item) without omitted names, …)` gives; test/unit/audit/canonical-wire.test.ts
// checks it on every attribute type. A value whose canonical form or error only the slow path knows (a set,
// binary, a number that is not a finite safe number, a malformed value) makes `serialise` return undefined,
// and the caller goes the slow way, which gives the same string or the same error.
import type { WireAttributeValue, WireItem } from '../dynamo/attribute-values.ts';

/** A map's attribute names, sorted, with their `"name":` prefixes (the first without the comma). */
export interface Shape {
  /** How many names the map has (omitted ones included): a different list with the same signature has another length. */
  readonly count: number;
  readonly names: readonly string[];
  /** Where each sorted name is in the map's own order (page-scanner.ts writes values it collected in that order). */
  readonly order: readonly number[];
  readonly prefixes: readonly string[];
  /** Two of the names are alike (a page's text can say so; a parsed object cannot). */
  readonly duplicate: boolean;
}

/** Shapes kept per cache: the audit log has a few dozen; a log of ever-new `details` keys must not grow memory without bound. */
const MAX_SHAPES = 4096;

/** The shape of a map whose names are `names`, in that order, without those in `omit`. */
export function shapeOf(names: readonly string[], omit: ReadonlySet<string>): Shape {
  const order: number[] = [];
  for (let i = 0; i < names.length; i++) if (!omit.has(names[i]!)) order.push(i);
  order.sort((a, b) => (names[a]! < names[b]! ? -1 : names[a]! > names[b]! ? 1 : 0));
  const sorted = order.map((i) => names[i]!);
  return { count: names.length, names: sorted, order, prefixes: sorted.map((n, i) => (i > 0 ? ',' : '') + JSON.stringify(n) + ':'), duplicate: new Set(names).size !== names.length };
}

/**
 * Each map shape's sorted names and prefixes, computed once per distinct list of names (in the order
 * the map has them), without the names in `omit`.
 */
export class ShapeCache {
  private readonly shapes = new Map<string, Shape>();
  private readonly omit: ReadonlySet<string>;

  constructor(omit: Iterable<string> = []) {
    this.omit = new Set(omit);
  }

  /** The shape of a map whose names are `names`, in that order. */
  of(names: readonly string[]): Shape {
    // Names joined by NUL: only shapes whose names hold no NUL are cached, so another list that joins to the
    // same signature must split differently, and so has another length.
    const signature = names.join('\u0000');
    let shape = this.shapes.get(signature);
    if (shape === undefined || shape.count !== names.length) {
      shape = shapeOf(names, this.omit);
      if (this.shapes.size < MAX_SHAPES && !names.some((n) => n.includes('\u0000'))) this.shapes.set(signature, shape);
    }
    return shape;
  }
}

/**
 * The strings JSON.stringify writes as they are, between quotes: no quote, backslash, control character
 * or surrogate (JSON.stringify escapes lone surrogates; pairs go the slow way too, which is still right).
 * Most audit values (digests, hashes, times, names) are such strings, and the test is cheaper than the call.
 */
// eslint-disable-next-line no-control-regex -- the control characters are what JSON.stringify escapes
const PLAIN = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;

/** Thrown inside the walk when the slow path must decide; caught by `serialise`. */
class SlowPath extends Error {}

/**
 * Serialises wire items canonically, leaving out some top-level names (the key attributes and `hash`).
 *
 * @example
 * const canonical = new WireCanonicalizer(['pk', 'sk', 'hash']);
 * canonical.serialise({ pk: { S: 'p' }, b: { N: '1' }, a: { L: [{ BOOL: true }, { NULL: true }] } }) // '{"a":[true,null],"b":1}'
 */
export class WireCanonicalizer {
  private readonly top: ShapeCache;
  private readonly nested = new ShapeCache();

  constructor(omit: Iterable<string>) {
    this.top = new ShapeCache(omit);
  }

  /** The canonical JSON of `item` without the omitted names, or undefined when only the slow path can tell. */
  serialise(item: WireItem): string | undefined {
    try {
      return this.map(item, true);
    } catch {
      // SlowPath, or a malformed item (a value that is not an attribute value object): the conversion says what is wrong.
      return undefined;
    }
  }

  private map(m: WireItem, top: boolean): string {
    const { names: sorted, prefixes } = (top ? this.top : this.nested).of(Object.keys(m));
    let out = '{';
    for (let i = 0; i < sorted.length; i++) out += prefixes[i]! + this.value(m[sorted[i]!]!);
    return out + '}';
  }

  /** One value, its members tested in fromWireValue's order (so a malformed value with two members reads the same). */
  private value(av: WireAttributeValue): string {
    const s = av.S;
    if (s !== undefined) return PLAIN.test(s) ? '"' + s + '"' : JSON.stringify(s);
    const n = av.N;
    if (n !== undefined) {
      const v = Number(n);
      // Outside the safe range fromWireNumber gives a bigint, and a non-finite number is refused: canonicalJson's errors.
      if (!Number.isFinite(v) || v > Number.MAX_SAFE_INTEGER || v < Number.MIN_SAFE_INTEGER) throw new SlowPath();
      return String(v);
    }
    const m = av.M;
    if (m !== undefined) return this.map(m, false);
    const l = av.L;
    if (l !== undefined) {
      let out = '[';
      for (let i = 0; i < l.length; i++) out += (i > 0 ? ',' : '') + this.value(l[i]!);
      return out + ']';
    }
    if (av.BOOL !== undefined) return av.BOOL ? 'true' : 'false';
    if (av.NULL !== undefined) return 'null';
    // SS, NS, BS and B become a Set or bytes, which canonicalJson refuses; an empty value is refused by the conversion.
    throw new SlowPath();
  }
}

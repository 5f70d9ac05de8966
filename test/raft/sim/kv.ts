// The replicated state machine the simulator runs: a key-value map of registers. A put's entry names
// the operation that issued it, so the checker can tell every application of every proposal apart.
const enc = new TextEncoder();
const dec = new TextDecoder();

export interface PutOp {
  opId: number;
  key: string;
  value: number;
}

export function encodePut(op: PutOp): Uint8Array {
  return enc.encode(`${op.opId}|${op.key}|${op.value}`);
}

export function decodePut(data: Uint8Array): PutOp | null {
  if (data.length === 0) return null;
  const [o, k, v] = dec.decode(data).split("|");
  return { opId: Number(o), key: k!, value: Number(v) };
}

export class KvState {
  readonly map = new Map<string, number>();
  /** A rolling digest of every applied put in order: equal digests at an index mean equal histories. */
  digest = 0;

  apply(op: PutOp): void {
    this.map.set(op.key, op.value);
    this.digest = mix(this.digest, op.opId);
  }

  get(key: string): number | undefined {
    return this.map.get(key);
  }

  serialize(): Uint8Array {
    return enc.encode(JSON.stringify({ d: this.digest, m: [...this.map] }));
  }

  static deserialize(data: Uint8Array): KvState {
    const s = new KvState();
    if (data.length === 0) return s;
    const o = JSON.parse(dec.decode(data)) as { d: number; m: [string, number][] };
    s.digest = o.d;
    for (const [k, v] of o.m) s.map.set(k, v);
    return s;
  }
}

function mix(h: number, x: number): number {
  h = Math.imul(h ^ x, 0x9e3779b1) >>> 0;
  return (h ^ (h >>> 15)) >>> 0;
}

export function hashBytes(b: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i]!, 0x01000193) >>> 0;
  return h;
}

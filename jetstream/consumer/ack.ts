// Reading acknowledgements: the ack reply subject a delivery carried
// ($JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>) and the body the client
// sent to it. Parsed by hand without splitting: every ack of every message comes through here.

export const ACK_PREFIX = "$JS.ACK.";

/** The fields of an ack subject; parseAckSubject fills one shared instance. */
export interface AckSubject {
  /** "<stream>.<consumer>": which consumer. */
  key: string;
  dc: number;
  sseq: number;
  dseq: number;
}

const scratch: AckSubject = { key: "", dc: 0, sseq: 0, dseq: 0 };
/** The key of the last ack parsed: acks come in runs for one consumer, so most start with it. */
let lastKey = "";

/** Parses a v1 ack subject; null if it is not one (nats-server then ignores the sequences). */
export function parseAckSubject(subject: string): AckSubject | null {
  if (!subject.startsWith(ACK_PREFIX)) return null;
  // "<last key>.<five numbers>" is exactly what the walk below would accept with that key, without
  // cutting the key out again.
  const k = lastKey;
  const at = ACK_PREFIX.length + k.length;
  if (k.length > 0 && subject.charCodeAt(at) === 46 && subject.startsWith(k, ACK_PREFIX.length) && parseNumbers(subject, at + 1)) {
    scratch.key = k;
    return scratch;
  }
  // Walk back over the five numeric tokens.
  let end = subject.length;
  let dc = 0;
  let sseq = 0;
  let dseq = 0;
  for (let t = 4; t >= 0; t--) {
    const dot = subject.lastIndexOf(".", end - 1);
    if (dot < ACK_PREFIX.length) return null;
    const n = parseNum(subject, dot + 1, end);
    if (n < 0) return null;
    if (t === 0) dc = n;
    else if (t === 1) sseq = n;
    else if (t === 2) dseq = n;
    end = dot;
  }
  // What is left is "<stream>.<consumer>": exactly one dot, both non-empty.
  const key = subject.substring(ACK_PREFIX.length, end);
  const d = key.indexOf(".");
  if (d <= 0 || d === key.length - 1 || key.indexOf(".", d + 1) >= 0) return null;
  lastKey = key;
  scratch.key = key;
  scratch.dc = dc;
  scratch.sseq = sseq;
  scratch.dseq = dseq;
  return scratch;
}

/** Five non-empty dot-separated numbers from `from` to the end; fills scratch's sequences. */
function parseNumbers(s: string, from: number): boolean {
  const len = s.length;
  let i = from;
  for (let t = 0; t < 5; t++) {
    let n = 0;
    const start = i;
    for (; i < len; i++) {
      const c = s.charCodeAt(i) - 48;
      if (c < 0 || c > 9) break;
      n = n * 10 + c;
    }
    if (i === start) return false;
    if (t < 4) {
      if (i >= len || s.charCodeAt(i) !== 46) return false;
      i++;
    } else if (i !== len) {
      return false;
    }
    if (t === 0) scratch.dc = n;
    else if (t === 1) scratch.sseq = n;
    else if (t === 2) scratch.dseq = n;
  }
  return true;
}

function parseNum(s: string, from: number, to: number): number {
  if (from >= to) return -1;
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

export const enum AckKind {
  Ack,
  Nak,
  Progress,
  Next,
  Term,
  Other,
}

const NAK = Buffer.from("-NAK");
const NXT = Buffer.from("+NXT");
const TERM = Buffer.from("+TERM");

function startsWith(b: Buffer, p: Buffer): boolean {
  if (b.length < p.length) return false;
  for (let i = 0; i < p.length; i++) if (b[i] !== p[i]) return false;
  return true;
}

function equalsAscii(b: Buffer, s: string): boolean {
  if (b.length !== s.length) return false;
  for (let i = 0; i < s.length; i++) if (b[i] !== s.charCodeAt(i)) return false;
  return true;
}

/** Which acknowledgement a body is (nats-server processAck). */
export function ackKind(body: Buffer): AckKind {
  if (body.length === 0 || equalsAscii(body, "+ACK") || equalsAscii(body, "+OK")) return AckKind.Ack;
  if (startsWith(body, NXT)) return AckKind.Next;
  if (startsWith(body, NAK)) return AckKind.Nak;
  if (equalsAscii(body, "+WPI")) return AckKind.Progress;
  // "+TERM" alone, or with a reason after a space (nats-server 2.10.4 and later).
  if (startsWith(body, TERM) && (body.length === TERM.length || body[TERM.length] === 32)) return AckKind.Term;
  return AckKind.Other;
}

/**
 * The delay of "-NAK {"delay": ns}" or "-NAK <go duration>" in ms; undefined for a plain NAK or an
 * unparsable delay (which nats-server treats as a plain NAK).
 */
export function nakDelayMs(body: Buffer, parseDuration: (s: string) => bigint | null): number | undefined {
  if (body.length <= NAK.length) return undefined;
  const arg = body.subarray(NAK.length).toString("utf8").trim();
  if (arg.length === 0) return undefined;
  if (arg[0] === "{") {
    try {
      const o = JSON.parse(arg) as { delay?: unknown };
      if (typeof o !== "object" || o === null) return undefined;
      const d = o.delay;
      if (d === undefined || d === null) return 0;
      if (typeof d !== "number" || !Number.isInteger(d)) return undefined;
      return d / 1e6;
    } catch {
      return undefined;
    }
  }
  const ns = parseDuration(arg);
  return ns === null ? undefined : Number(ns) / 1e6;
}

/** The reason of "+TERM <reason>", or "". */
export function termReason(body: Buffer): string {
  return body.length > TERM.length + 1 ? body.subarray(TERM.length + 1).toString("utf8").trim() : "";
}

/** The pull request carried by "+NXT <request>". */
export function nextRequestBody(body: Buffer): Buffer {
  return body.subarray(NXT.length);
}

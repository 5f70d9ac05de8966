// The client protocol parser: a state machine over Buffers that gives the same result for any split
// of the input into chunks. Verbs are recognised a byte at a time (so garbage is refused at its first
// byte, as nats-server does); control lines are found with indexOf; payloads are handed on as slices
// of the read buffer when they arrive whole, and copied once into one buffer when they do not.

export interface ProtocolHandler {
  onConnect(arg: string): void;
  /**
   * A message: buf[start, end) holds headers then payload, without the trailing CRLF; hdrLen is -1
   * for PUB. The range is only valid during the call (slice it to keep it).
   */
  onPub(subject: string, reply: string | null, hdrLen: number, buf: Buffer, start: number, end: number): void;
  onSub(subject: string, queue: string | null, sid: string): void;
  onUnsub(sid: string, max: number): void;
  onPing(): void;
  onPong(): void;
  onInfo(arg: string): void;
  onOk(): void;
  onErr(arg: string): void;
  /** Called when a non-CONNECT op arrives while a CONNECT is required; true lets it through. */
  onOpBeforeConnect(): boolean;
  /** Only called when `trace` is on. */
  traceIn?(op: string, arg: string | null): void;
}

export const enum ParseErrorKind {
  /** -ERR 'Unknown Protocol Operation', close. */
  UnknownOp = 1,
  /** -ERR 'maximum control line exceeded', close. */
  MaxControlLine,
  /** -ERR 'Maximum Payload Violation', close. */
  MaxPayload,
  /** Malformed arguments: close without an -ERR, as nats-server does. */
  BadArgs,
  /** Protocol before CONNECT on a connection that requires auth: -ERR 'Authorization Violation', close. */
  AuthViolation,
  /** HPUB on a connection that did not negotiate headers: close. */
  HeadersNotSupported,
}

export interface ParseError {
  kind: ParseErrorKind;
  detail: string;
}

const enum S {
  START,
  P, // PUB PING PONG
  H, // HPUB
  VERB, // matching the rest of a verb in `verb`
  VERB_SPC, // verb seen, one space or tab required
  SKIP_SPC, // skipping spaces before the argument
  ARG,
  TO_EOL, // PING, PONG, +OK: everything up to the newline is ignored
  PAYLOAD,
  END_R,
  END_N,
}

const enum Op {
  PUB = 1,
  HPUB,
  SUB,
  UNSUB,
  CONNECT,
  INFO,
  PING,
  PONG,
  OK,
  ERR,
}

const VERBS: Record<number, string> = {
  [Op.PUB]: "PUB",
  [Op.HPUB]: "HPUB",
  [Op.SUB]: "SUB",
  [Op.UNSUB]: "UNSUB",
  [Op.CONNECT]: "CONNECT",
  [Op.INFO]: "INFO",
  [Op.PING]: "PING",
  [Op.PONG]: "PONG",
  [Op.OK]: "+OK",
  [Op.ERR]: "-ERR",
};

/** Ops whose verb must be followed by a space or tab. */
function needsSpace(op: Op): boolean {
  return op === Op.PUB || op === Op.HPUB || op === Op.SUB || op === Op.UNSUB || op === Op.ERR;
}

const MAX_SIZE_DIGITS = 9;

/** nats-server's parseSize: decimal digits only, at most 9 of them, else -1. */
export function parseSize(buf: Buffer, s: number, e: number): number {
  const len = e - s;
  if (len === 0 || len > MAX_SIZE_DIGITS) return -1;
  let n = 0;
  for (let i = s; i < e; i++) {
    const d = buf[i]! - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** Node's direct UTF-8 decoder, which the typings do not declare; it skips toString's dispatch. */
type FastBuffer = Buffer & { utf8Slice(start: number, end: number): string };

function decode(buf: Buffer, s: number, e: number): string {
  return (buf as FastBuffer).utf8Slice(s, e);
}

/**
 * Publishers tend to repeat subjects. Remembering the last subject's bytes lets the parser hand
 * back the same string object (no decode, and its hash is already computed for map lookups).
 */
class SubjectCache {
  private bytes = Buffer.alloc(256);
  private len = -1;
  private str = "";
  get(buf: Buffer, s: number, e: number): string {
    const n = e - s;
    const b = this.bytes;
    // Subjects unique per message (acks, replies) differ at the end: look there first.
    if (n === this.len && n > 0 && b[n - 1] === buf[e - 1]) {
      let i = 0;
      while (i < n && b[i] === buf[s + i]) i++;
      if (i === n) return this.str;
    }
    const str = decode(buf, s, e);
    if (n <= b.length) {
      // A loop beats a native copy call at these lengths.
      for (let i = 0; i < n; i++) b[i] = buf[s + i]!;
      this.len = n;
      this.str = str;
    }
    return str;
  }
}

export class Parser {
  maxControlLine: number;
  maxPayload: number;
  headers = false;
  awaitingConnect = false;
  trace = false;
  /** Set by a handler to stop parsing after the current op; the rest is kept until resume(). */
  paused = false;
  /** Set by a handler when the connection is closing; parsing stops for good. */
  closed = false;

  private state = S.START;
  private op: Op = Op.PUB;
  private verbPos = 0;
  private argBuf: Buffer | null = null;
  private argLen = 0;
  // The message being read.
  private subject = "";
  private reply: string | null = null;
  private hdrLen = -1;
  private size = 0;
  private msgBuf: Buffer | null = null;
  private msgPos = 0;
  private held: Buffer | null = null;
  private spans = new Int32Array(12);
  private subjects = new SubjectCache();

  constructor(private readonly h: ProtocolHandler, opts: { maxControlLine: number; maxPayload: number }) {
    this.maxControlLine = opts.maxControlLine;
    this.maxPayload = opts.maxPayload;
  }

  /** Bytes buffered inside the parser (partial control line or message), for accounting. */
  get buffered(): number {
    return this.argLen + (this.msgBuf ? this.msgPos : 0) + (this.held ? this.held.length : 0);
  }

  /** Continues with input held back by a pause. */
  resume(): ParseError | null {
    this.paused = false;
    const held = this.held;
    this.held = null;
    return held ? this.parse(held) : null;
  }

  parse(buf: Buffer): ParseError | null {
    if (this.closed) return null;
    if (this.paused) {
      // Input is borrowed (a transport may reuse its read buffer): keep a copy.
      this.held = this.held ? Buffer.concat([this.held, buf]) : Buffer.from(buf);
      return null;
    }
    const n = buf.length;
    let i = 0;
    while (i < n) {
      const b = buf[i]!;
      switch (this.state) {
        case S.START: {
          if (this.awaitingConnect && b !== 67 && b !== 99 /* C c */) {
            if (!this.h.onOpBeforeConnect()) return this.fail(ParseErrorKind.AuthViolation, "");
            this.awaitingConnect = false;
          }
          if (b === 80 && i + 3 < n && buf[i + 1] === 85 && buf[i + 2] === 66 && buf[i + 3] === 32) {
            // "PUB " in one piece, the common case: skip the verb states.
            this.op = Op.PUB;
            this.state = S.SKIP_SPC;
            i += 4;
            break;
          }
          switch (b | 0x20) {
            case 112 /* p */:
              this.state = S.P;
              break;
            case 104 /* h */:
              this.state = S.H;
              break;
            case 115 /* s */:
              this.startVerb(Op.SUB);
              break;
            case 117 /* u */:
              this.startVerb(Op.UNSUB);
              break;
            case 99 /* c */:
              this.startVerb(Op.CONNECT);
              break;
            case 105 /* i */:
              this.startVerb(Op.INFO);
              break;
            default:
              if (b === 43 /* + */) this.startVerb(Op.OK);
              else if (b === 45 /* - */) this.startVerb(Op.ERR);
              else return this.unknown(buf, i);
          }
          i++;
          break;
        }
        case S.P: {
          const c = b | 0x20;
          if (c === 117 /* u */) this.op = Op.PUB;
          else if (c === 105 /* i */) this.op = Op.PING;
          else if (c === 111 /* o */) this.op = Op.PONG;
          else return this.unknown(buf, i);
          this.verbPos = 2;
          this.state = S.VERB;
          i++;
          break;
        }
        case S.H: {
          if ((b | 0x20) !== 112 /* p */) return this.unknown(buf, i);
          this.op = Op.HPUB;
          this.verbPos = 2;
          this.state = S.VERB;
          i++;
          break;
        }
        case S.VERB: {
          const verb = VERBS[this.op]!;
          if ((b | 0x20) !== (verb.charCodeAt(this.verbPos) | 0x20)) return this.unknown(buf, i);
          i++;
          if (++this.verbPos === verb.length) {
            const op = this.op;
            if (op === Op.PING || op === Op.PONG || op === Op.OK) this.state = S.TO_EOL;
            else if (needsSpace(op)) this.state = S.VERB_SPC;
            else this.state = S.SKIP_SPC;
          }
          break;
        }
        case S.VERB_SPC: {
          if (b !== 32 && b !== 9) return this.unknown(buf, i);
          this.state = S.SKIP_SPC;
          i++;
          break;
        }
        case S.SKIP_SPC: {
          if (b === 32 || b === 9) {
            i++;
            break;
          }
          this.state = S.ARG;
          this.argLen = 0;
          break;
        }
        case S.ARG: {
          const nl = buf.indexOf(10, i);
          if (nl < 0) {
            this.appendArg(buf, i, n);
            if (this.argLen > this.maxControlLine) return this.fail(ParseErrorKind.MaxControlLine, "");
            i = n;
            break;
          }
          let line: Buffer;
          let ls: number;
          let le: number;
          if (this.argLen > 0) {
            this.appendArg(buf, i, nl);
            line = this.argBuf!;
            ls = 0;
            le = this.argLen;
          } else {
            line = buf;
            ls = i;
            le = nl;
          }
          if (le > ls && line[le - 1] === 13) le--;
          this.argLen = 0;
          i = nl + 1;
          if (le - ls > this.maxControlLine) return this.fail(ParseErrorKind.MaxControlLine, "");
          const err = this.dispatchArg(line, ls, le);
          if (err) return err;
          if (this.closed) return null;
          if (this.paused) return this.hold(buf, i);
          break;
        }
        case S.TO_EOL: {
          const nl = buf.indexOf(10, i);
          if (nl < 0) {
            i = n;
            break;
          }
          i = nl + 1;
          this.state = S.START;
          const op = this.op;
          if (this.trace) this.h.traceIn?.(VERBS[op]!, null);
          if (op === Op.PING) this.h.onPing();
          else if (op === Op.PONG) this.h.onPong();
          else this.h.onOk();
          if (this.closed) return null;
          if (this.paused) return this.hold(buf, i);
          break;
        }
        case S.PAYLOAD: {
          const size = this.size;
          if (this.msgBuf === null) {
            // Fast path: the whole message and its CRLF are in this chunk.
            if (n - i >= size + 2) {
              if (buf[i + size] !== 13) return this.unknown(buf, i + size);
              if (buf[i + size + 1] !== 10) return this.unknown(buf, i + size + 1);
              const start = i;
              i += size + 2;
              this.state = S.START;
              this.h.onPub(this.subject, this.reply, this.hdrLen, buf, start, start + size);
              if (this.closed) return null;
              if (this.paused) return this.hold(buf, i);
              break;
            }
            this.msgBuf = Buffer.allocUnsafe(size);
            this.msgPos = 0;
          }
          const take = Math.min(size - this.msgPos, n - i);
          buf.copy(this.msgBuf, this.msgPos, i, i + take);
          this.msgPos += take;
          i += take;
          if (this.msgPos === size) this.state = S.END_R;
          break;
        }
        case S.END_R: {
          if (b !== 13) return this.unknown(buf, i);
          this.state = S.END_N;
          i++;
          break;
        }
        case S.END_N: {
          if (b !== 10) return this.unknown(buf, i);
          i++;
          const msg = this.msgBuf!;
          this.msgBuf = null;
          this.msgPos = 0;
          this.state = S.START;
          this.h.onPub(this.subject, this.reply, this.hdrLen, msg, 0, msg.length);
          if (this.closed) return null;
          if (this.paused) return this.hold(buf, i);
          break;
        }
      }
    }
    return null;
  }

  private startVerb(op: Op): void {
    this.op = op;
    this.verbPos = 1;
    this.state = S.VERB;
  }

  private hold(buf: Buffer, i: number): null {
    if (i < buf.length) this.held = Buffer.from(buf.subarray(i));
    return null;
  }

  private appendArg(buf: Buffer, s: number, e: number): void {
    const need = this.argLen + (e - s);
    if (this.argBuf === null || this.argBuf.length < need) {
      const nb = Buffer.allocUnsafe(Math.max(need, 256, this.argBuf ? this.argBuf.length * 2 : 0));
      if (this.argBuf && this.argLen > 0) this.argBuf.copy(nb, 0, 0, this.argLen);
      this.argBuf = nb;
    }
    buf.copy(this.argBuf, this.argLen, s, e);
    this.argLen = need;
  }

  private fail(kind: ParseErrorKind, detail: string): ParseError {
    this.closed = true;
    return { kind, detail };
  }

  private unknown(buf: Buffer, i: number): ParseError {
    const snip = buf.toString("latin1", i, Math.min(buf.length, i + 32));
    return this.fail(ParseErrorKind.UnknownOp, `parser ERROR, state=${this.state}, i=${i}: proto='${JSON.stringify(snip)}...'`);
  }

  /** Splits on spaces and tabs (and CR/LF for SUB/UNSUB, like nats-server's splitArg). */
  private split(line: Buffer, s: number, e: number, crlf: boolean): number {
    const spans = this.spans;
    let count = 0;
    let start = -1;
    for (let i = s; i < e; i++) {
      const c = line[i]!;
      const sep = c === 32 || c === 9 || (crlf && (c === 13 || c === 10));
      if (sep) {
        if (start >= 0) {
          if (count === 6) return 7;
          spans[count * 2] = start;
          spans[count * 2 + 1] = i;
          count++;
          start = -1;
        }
      } else if (start < 0) start = i;
    }
    if (start >= 0) {
      if (count === 6) return 7;
      spans[count * 2] = start;
      spans[count * 2 + 1] = e;
      count++;
    }
    return count;
  }

  private dispatchArg(line: Buffer, s: number, e: number): ParseError | null {
    const op = this.op;
    const h = this.h;
    if (this.trace && h.traceIn) h.traceIn(VERBS[op]!, op === Op.CONNECT ? redactConnect(line.toString("utf8", s, e)) : line.toString("utf8", s, e));
    const sp = this.spans;
    switch (op) {
      case Op.PUB: {
        const c = this.split(line, s, e, false);
        if (c !== 2 && c !== 3) return this.fail(ParseErrorKind.BadArgs, `processPub Parse Error: '${line.toString("utf8", s, e)}'`);
        const size = parseSize(line, sp[(c - 1) * 2]!, sp[(c - 1) * 2 + 1]!);
        if (size < 0) return this.fail(ParseErrorKind.BadArgs, `processPub Bad or Missing Size: '${line.toString("utf8", s, e)}'`);
        if (size > this.maxPayload) return this.fail(ParseErrorKind.MaxPayload, `${size} vs ${this.maxPayload}`);
        this.subject = this.subjects.get(line, sp[0]!, sp[1]!);
        this.reply = c === 3 ? decode(line, sp[2]!, sp[3]!) : null;
        this.hdrLen = -1;
        this.size = size;
        this.state = S.PAYLOAD;
        return null;
      }
      case Op.HPUB: {
        if (!this.headers) return this.fail(ParseErrorKind.HeadersNotSupported, "message headers not supported");
        const c = this.split(line, s, e, false);
        if (c !== 3 && c !== 4) return this.fail(ParseErrorKind.BadArgs, `processHeaderPub Parse Error: '${line.toString("utf8", s, e)}'`);
        const hdr = parseSize(line, sp[(c - 2) * 2]!, sp[(c - 2) * 2 + 1]!);
        const size = parseSize(line, sp[(c - 1) * 2]!, sp[(c - 1) * 2 + 1]!);
        if (hdr < 0 || size < 0 || hdr > size) return this.fail(ParseErrorKind.BadArgs, `processHeaderPub Bad Sizes: '${line.toString("utf8", s, e)}'`);
        if (size > this.maxPayload) return this.fail(ParseErrorKind.MaxPayload, `${size} vs ${this.maxPayload}`);
        this.subject = this.subjects.get(line, sp[0]!, sp[1]!);
        this.reply = c === 4 ? decode(line, sp[2]!, sp[3]!) : null;
        this.hdrLen = hdr;
        this.size = size;
        this.state = S.PAYLOAD;
        return null;
      }
      case Op.SUB: {
        const c = this.split(line, s, e, true);
        if (c !== 2 && c !== 3) return this.fail(ParseErrorKind.BadArgs, `processSub Parse Error: '${line.toString("utf8", s, e)}'`);
        this.state = S.START;
        const subject = decode(line, sp[0]!, sp[1]!);
        const queue = c === 3 ? decode(line, sp[2]!, sp[3]!) : null;
        const sid = decode(line, sp[(c - 1) * 2]!, sp[(c - 1) * 2 + 1]!);
        h.onSub(subject, queue, sid);
        return null;
      }
      case Op.UNSUB: {
        const c = this.split(line, s, e, true);
        if (c !== 1 && c !== 2) return this.fail(ParseErrorKind.BadArgs, `processUnsub Parse Error: '${line.toString("utf8", s, e)}'`);
        this.state = S.START;
        const sid = decode(line, sp[0]!, sp[1]!);
        const max = c === 2 ? parseSize(line, sp[2]!, sp[3]!) : -1;
        h.onUnsub(sid, max);
        return null;
      }
      case Op.CONNECT:
        this.state = S.START;
        this.awaitingConnect = false;
        h.onConnect(line.toString("utf8", s, e));
        return null;
      case Op.INFO:
        this.state = S.START;
        h.onInfo(line.toString("utf8", s, e));
        return null;
      case Op.ERR:
        this.state = S.START;
        h.onErr(line.toString("utf8", s, e));
        return null;
      default:
        return this.fail(ParseErrorKind.UnknownOp, "bad state");
    }
  }
}

/** Hides passwords and tokens in traced CONNECT lines. */
export function redactConnect(arg: string): string {
  return arg.replace(/("(?:pass|auth_token|sig)"\s*:\s*)"(?:[^"\\]|\\.)*"/g, '$1"[REDACTED]"');
}

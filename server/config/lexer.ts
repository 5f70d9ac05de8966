// Lexer for the NATS configuration format.
//
// The language is defined by nats-server's conf/lex.go rather than by a grammar, and launchers and
// operators rely on its odd corners (keys separated from values by nothing but a space, a lone `}`
// ending a top-level value, numbers that turn into strings, `include` recognised only as a key).
// To accept exactly what nats-server accepts, this is a state machine with the same states and
// transitions as lex.go, written as functions that return the next state; only the bookkeeping
// (token offsets for line:column, error positions, byte escapes) is our own.
//
// Like lex.go, a NUL character reads as end of input: lex.go uses rune 0 as its EOF marker, and
// matching that keeps the two lexers agreeing on which inputs are accepted.

export type TokenType =
  | "eof"
  | "key"
  | "text"
  | "string"
  | "bool"
  | "integer"
  | "float"
  | "datetime"
  | "arrayStart"
  | "arrayEnd"
  | "mapStart"
  | "mapEnd"
  | "commentStart"
  | "variable"
  | "include";

export interface Token {
  type: TokenType;
  value: string;
  offset: number; // where the token's text starts in the input
}

export interface LexResult {
  tokens: Token[];
  error?: { message: string; offset: number };
}

const EOF = 0;

type State = (lx: Lexer) => State | null;

class Lexer {
  readonly input: string;
  start = 0;
  pos = 0;
  width = 0;
  // Offset of the character most recently read (by next or peek); errors point at it.
  lastRuneAt = 0;
  readonly stack: State[] = [];
  // Pieces of a string that contained escapes, and the state that resumes after an escape.
  parts: Buffer[] = [];
  partsStart = -1;
  stringState: State = lexString;
  readonly tokens: Token[] = [];
  error: { message: string; offset: number } | undefined;

  constructor(input: string) {
    this.input = input;
  }

  next(): number {
    if (this.pos >= this.input.length) {
      this.width = 0;
      this.lastRuneAt = this.pos;
      return EOF;
    }
    const c = this.input.codePointAt(this.pos)!;
    this.lastRuneAt = this.pos;
    this.width = c > 0xffff ? 2 : 1;
    this.pos += this.width;
    return c;
  }

  backup(): void {
    this.pos -= this.width;
  }

  peek(): number {
    const r = this.next();
    this.backup();
    return r;
  }

  ignore(): void {
    this.start = this.pos;
  }

  push(s: State): void {
    this.stack.push(s);
  }

  pop(): State | null {
    const s = this.stack.pop();
    if (!s) return this.errorf("internal lexer error: no state to return to");
    return s;
  }

  emit(type: TokenType): void {
    const text = this.input.slice(this.start, this.pos);
    const offset = this.partsStart >= 0 ? this.partsStart : this.start;
    const value = this.parts.length > 0 ? Buffer.concat([...this.parts, Buffer.from(text)]).toString("utf8") : text;
    this.tokens.push({ type, value, offset });
    this.start = this.pos;
  }

  emitString(): void {
    this.emit("string");
    this.parts = [];
    this.partsStart = -1;
  }

  // Keeps the text read so far (minus the `offset` characters of an escape introducer).
  addCurrentStringPart(offset: number): void {
    if (this.partsStart < 0) this.partsStart = this.start;
    this.parts.push(Buffer.from(this.input.slice(this.start, this.pos - offset)));
    this.start = this.pos;
  }

  addStringPart(piece: Buffer): State {
    this.parts.push(piece);
    this.start = this.pos;
    return this.stringState;
  }

  hasEscapedParts(): boolean {
    return this.parts.length > 0;
  }

  errorf(message: string): null {
    this.error = { message, offset: this.lastRuneAt };
    return null;
  }

  isBool(): boolean {
    const s = this.input.slice(this.start, this.pos).toLowerCase();
    return s === "true" || s === "false" || s === "on" || s === "off" || s === "yes" || s === "no";
  }

  // A `$` at the start of an unquoted string makes it a variable reference; the `$` is dropped.
  isVariable(): boolean {
    if (this.start >= this.input.length) return false;
    if (this.input[this.start] === "$") {
      this.start += 1;
      return true;
    }
    return false;
  }
}

export function lex(input: string): LexResult {
  const lx = new Lexer(input);
  let state: State | null = lexTop;
  while (state !== null) state = state(lx);
  return lx.error ? { tokens: lx.tokens, error: lx.error } : { tokens: lx.tokens };
}

// ---- character classes (Go's unicode.IsSpace / IsDigit and lex.go's helpers) ----

const NON_ASCII_DIGIT = /\p{Nd}/u;

function isSpace(r: number): boolean {
  if (r <= 0xff) return r === 0x20 || (r >= 0x09 && r <= 0x0d) || r === 0x85 || r === 0xa0;
  return (
    r === 0x1680 || (r >= 0x2000 && r <= 0x200a) || r === 0x2028 || r === 0x2029 || r === 0x202f || r === 0x205f || r === 0x3000
  );
}

function isDigit(r: number): boolean {
  if (r < 0x80) return r >= 0x30 && r <= 0x39;
  return NON_ASCII_DIGIT.test(String.fromCodePoint(r));
}

const isWhitespace = (r: number): boolean => r === 0x20 || r === 0x09;
const isNL = (r: number): boolean => r === 0x0a || r === 0x0d;
const isKeySeparator = (r: number): boolean => r === ch("=") || r === ch(":");
const isNumberSuffix = (r: number): boolean => "kKmMgGtTpPeE".includes(String.fromCodePoint(r)) && r !== EOF;

function ch(s: string): number {
  return s.charCodeAt(0);
}

function show(r: number): string {
  if (r === EOF) return "end of input";
  if (r === 0x0a) return "'\\n'";
  if (r === 0x0d) return "'\\r'";
  return `'${String.fromCodePoint(r)}'`;
}

const C = {
  mapStart: ch("{"),
  mapEnd: ch("}"),
  arrayStart: ch("["),
  arrayEnd: ch("]"),
  comma: ch(","),
  semicolon: ch(";"),
  hash: ch("#"),
  slash: ch("/"),
  dq: ch('"'),
  sq: ch("'"),
  blockStart: ch("("),
  blockEnd: ch(")"),
  minus: ch("-"),
  dot: ch("."),
  colon: ch(":"),
  backslash: ch("\\"),
  nl: ch("\n"),
};

function skipTo(lx: Lexer, next: State): State {
  lx.ignore();
  return next;
}

// ---- top level ----

function lexTop(lx: Lexer): State | null {
  const r = lx.next();
  if (isSpace(r)) return skipTo(lx, lexTop);
  switch (r) {
    case C.mapStart:
      // A config may be wrapped in one pair of braces; the opening one is simply skipped.
      return skipTo(lx, lexTop);
    case C.hash:
      lx.push(lexTop);
      return lexCommentStart;
    case C.slash:
      if (lx.next() === C.slash) {
        lx.push(lexTop);
        return lexCommentStart;
      }
      lx.backup();
      return topEof(lx);
    case EOF:
      return topEof(lx);
  }
  lx.backup();
  lx.push(lexTopValueEnd);
  return lexKeyStart;
}

function topEof(lx: Lexer): State | null {
  if (lx.pos > lx.start) return lx.errorf("unexpected end of input");
  lx.emit("eof");
  return null;
}

function lexTopValueEnd(lx: Lexer): State | null {
  const r = lx.next();
  if (r === C.hash) {
    lx.push(lexTop);
    return lexCommentStart;
  }
  if (r === C.slash) {
    if (lx.next() === C.slash) {
      lx.push(lexTop);
      return lexCommentStart;
    }
    // lex.go lets a lone '/' here fall through to the whitespace case.
    lx.backup();
    return lexTopValueEnd;
  }
  if (isWhitespace(r)) return lexTopValueEnd;
  if (isNL(r) || r === EOF || r === C.semicolon || r === C.comma || r === C.mapEnd) return skipTo(lx, lexTop);
  return lx.errorf(`expected a top-level value to end with a new line, comment or end of input, but got ${show(r)}`);
}

// ---- keys ----

function lexKeyStart(lx: Lexer): State | null {
  const r = lx.peek();
  if (isKeySeparator(r)) return lx.errorf(`unexpected key separator ${show(r)}`);
  if (isSpace(r)) {
    lx.next();
    return skipTo(lx, lexKeyStart);
  }
  if (r === C.dq) {
    lx.next();
    return skipTo(lx, lexDubQuotedKey);
  }
  if (r === C.sq) {
    lx.next();
    return skipTo(lx, lexQuotedKey);
  }
  lx.ignore();
  lx.next();
  return lexKey;
}

function quotedKey(quote: number, after: State): State {
  const self: State = (lx) => {
    const r = lx.peek();
    if (r === quote) {
      lx.emit("key");
      lx.next();
      return skipTo(lx, after);
    }
    if (r === EOF) {
      if (lx.pos > lx.start) return lx.errorf("unexpected end of input in a quoted key");
      lx.emit("eof");
      return null;
    }
    lx.next();
    return self;
  };
  return self;
}

const lexDubQuotedKey: State = (lx) => quotedKey(C.dq, lexKeyEnd)(lx);
const lexQuotedKey: State = (lx) => quotedKey(C.sq, lexKeyEnd)(lx);

// A key followed by a space may be the `include` keyword.
function keyCheckKeyword(lx: Lexer, fallThrough: State, push: State | null): State {
  const key = lx.input.slice(lx.start, lx.pos).toLowerCase();
  if (key === "include") {
    lx.ignore();
    if (push) lx.push(push);
    return lexIncludeStart;
  }
  lx.emit("key");
  return fallThrough;
}

function lexKey(lx: Lexer): State | null {
  const r = lx.peek();
  if (isSpace(r)) return keyCheckKeyword(lx, lexKeyEnd, null);
  if (isKeySeparator(r) || r === EOF) {
    lx.emit("key");
    return lexKeyEnd;
  }
  lx.next();
  return lexKey;
}

function lexKeyEnd(lx: Lexer): State | null {
  const r = lx.next();
  if (isSpace(r)) return skipTo(lx, lexKeyEnd);
  if (isKeySeparator(r)) return skipTo(lx, lexValue);
  if (r === EOF) {
    lx.emit("eof");
    return null;
  }
  lx.backup();
  return lexValue;
}

// ---- include ----

function lexIncludeStart(lx: Lexer): State | null {
  const r = lx.next();
  if (isWhitespace(r)) return skipTo(lx, lexIncludeStart);
  lx.backup();
  return lexInclude;
}

function lexInclude(lx: Lexer): State | null {
  const r = lx.next();
  if (r === C.sq) return skipTo(lx, includeQuoted(C.sq));
  if (r === C.dq) return skipTo(lx, includeQuoted(C.dq));
  if (r === C.arrayStart) return lx.errorf("expected an include file name but found the start of an array");
  if (r === C.mapStart) return lx.errorf("expected an include file name but found the start of a map");
  if (r === C.blockStart) return lx.errorf("expected an include file name but found the start of a block");
  if (isDigit(r) || r === C.minus) return lx.errorf("expected an include file name but found the start of a number");
  if (r === C.backslash) return lx.errorf("expected an include file name but found an escape sequence");
  if (isNL(r)) return lx.errorf("expected an include file name but found a new line");
  lx.backup();
  return lexIncludeString;
}

function includeQuoted(quote: number): State {
  const self: State = (lx) => {
    const r = lx.next();
    if (r === quote) {
      lx.backup();
      lx.emit("include");
      lx.next();
      lx.ignore();
      return lx.pop();
    }
    if (r === EOF) return lx.errorf("unexpected end of input in a quoted include file name");
    return self;
  };
  return self;
}

function lexIncludeString(lx: Lexer): State | null {
  const r = lx.next();
  if (isNL(r) || r === EOF || r === C.semicolon || r === C.mapEnd || isWhitespace(r)) {
    lx.backup();
    lx.emit("include");
    return lx.pop();
  }
  if (r === C.sq) {
    lx.backup();
    lx.emit("include");
    lx.next();
    lx.ignore();
    return lx.pop();
  }
  return lexIncludeString;
}

// ---- values ----

function lexValue(lx: Lexer): State | null {
  // Whitespace may precede a value, but a new line may not: the array and map states deal with those.
  const r = lx.next();
  if (isWhitespace(r)) return skipTo(lx, lexValue);
  if (r === C.arrayStart) {
    lx.ignore();
    lx.emit("arrayStart");
    return lexArrayValue;
  }
  if (r === C.mapStart) {
    lx.ignore();
    lx.emit("mapStart");
    return lexMapKeyStart;
  }
  if (r === C.sq) return skipTo(lx, lexQuotedString);
  if (r === C.dq) {
    lx.ignore();
    lx.stringState = lexDubQuotedString;
    return lexDubQuotedString;
  }
  if (r === C.minus) return lexNegNumberStart;
  if (r === C.blockStart) return skipTo(lx, lexBlock);
  if (isDigit(r)) {
    lx.backup();
    return lexNumberOrDateOrStringOrIPStart;
  }
  if (r === C.dot) return lx.errorf("floats must start with a digit");
  if (isNL(r)) return lx.errorf("expected a value but found a new line");
  lx.backup();
  lx.stringState = lexString;
  return lexString;
}

// ---- arrays ----

function lexArrayValue(lx: Lexer): State | null {
  const r = lx.next();
  if (isSpace(r)) return skipTo(lx, lexArrayValue);
  if (r === C.hash) {
    lx.push(lexArrayValue);
    return lexCommentStart;
  }
  if (r === C.slash) {
    if (lx.next() === C.slash) {
      lx.push(lexArrayValue);
      return lexCommentStart;
    }
    lx.backup();
    return lx.errorf("unexpected array value terminator ','");
  }
  if (r === C.comma) return lx.errorf("unexpected array value terminator ','");
  if (r === C.arrayEnd) return lexArrayEnd;
  lx.backup();
  lx.push(lexArrayValueEnd);
  return lexValue;
}

function lexArrayValueEnd(lx: Lexer): State | null {
  const r = lx.next();
  if (isWhitespace(r)) return skipTo(lx, lexArrayValueEnd);
  if (r === C.hash) {
    lx.push(lexArrayValueEnd);
    return lexCommentStart;
  }
  if (r === C.slash) {
    if (lx.next() === C.slash) {
      lx.push(lexArrayValueEnd);
      return lexCommentStart;
    }
    // lex.go lets a lone '/' fall through to the separator case.
    lx.backup();
    return skipTo(lx, lexArrayValue);
  }
  if (r === C.comma || isNL(r)) return skipTo(lx, lexArrayValue);
  if (r === C.arrayEnd) return lexArrayEnd;
  const last = lx.tokens[lx.tokens.length - 1];
  // nats-server reads `1]` as the string "1]", so `[1]` swallows its own bracket; say so.
  const hint = last && last.type === "string" && /^[-0-9].*\]/.test(last.value) ? " (a number written right before ']' reads as text, as in nats-server: add a space before ']')" : "";
  return lx.errorf(`expected ',' or ']' after an array value, but got ${show(r)}${hint}`);
}

function lexArrayEnd(lx: Lexer): State | null {
  lx.ignore();
  lx.emit("arrayEnd");
  return lx.pop();
}

// ---- maps ----

function lexMapKeyStart(lx: Lexer): State | null {
  const r = lx.peek();
  if (isKeySeparator(r)) return lx.errorf(`unexpected key separator ${show(r)}`);
  if (r === C.arrayEnd) return lx.errorf("unexpected ']' in a map");
  if (isSpace(r)) {
    lx.next();
    return skipTo(lx, lexMapKeyStart);
  }
  if (r === C.mapEnd) {
    lx.next();
    return skipTo(lx, lexMapEnd);
  }
  if (r === C.hash) {
    lx.next();
    lx.push(lexMapKeyStart);
    return lexCommentStart;
  }
  if (r === C.slash) {
    lx.next();
    if (lx.next() === C.slash) {
      lx.push(lexMapKeyStart);
      return lexCommentStart;
    }
    // lex.go drops a lone '/' here: the key starts at the character after it.
    lx.backup();
  } else if (r === C.sq) {
    lx.next();
    return skipTo(lx, lexMapQuotedKey);
  } else if (r === C.dq) {
    lx.next();
    return skipTo(lx, lexMapDubQuotedKey);
  } else if (r === EOF) {
    return lx.errorf("unexpected end of input in a map");
  }
  lx.ignore();
  lx.next();
  return lexMapKey;
}

function mapQuotedKey(quote: number): State {
  const self: State = (lx) => {
    const r = lx.peek();
    if (r === EOF) return lx.errorf("unexpected end of input in a quoted map key");
    if (r === quote) {
      lx.emit("key");
      lx.next();
      return skipTo(lx, lexMapKeyEnd);
    }
    lx.next();
    return self;
  };
  return self;
}

const lexMapQuotedKey: State = (lx) => mapQuotedKey(C.sq)(lx);
const lexMapDubQuotedKey: State = (lx) => mapQuotedKey(C.dq)(lx);

function lexMapKey(lx: Lexer): State | null {
  const r = lx.peek();
  if (r === EOF) return lx.errorf("unexpected end of input in a map key");
  if (isSpace(r)) return keyCheckKeyword(lx, lexMapKeyEnd, lexMapValueEnd);
  if (isKeySeparator(r)) {
    lx.emit("key");
    return lexMapKeyEnd;
  }
  lx.next();
  return lexMapKey;
}

function lexMapKeyEnd(lx: Lexer): State | null {
  const r = lx.next();
  if (isSpace(r)) return skipTo(lx, lexMapKeyEnd);
  if (isKeySeparator(r)) return skipTo(lx, lexMapValue);
  lx.backup();
  return lexMapValue;
}

function lexMapValue(lx: Lexer): State | null {
  const r = lx.next();
  if (isSpace(r)) return skipTo(lx, lexMapValue);
  if (r === C.comma) return lx.errorf("unexpected map value terminator ','");
  if (r === C.mapEnd) return skipTo(lx, lexMapEnd);
  lx.backup();
  lx.push(lexMapValueEnd);
  return lexValue;
}

function lexMapValueEnd(lx: Lexer): State | null {
  const r = lx.next();
  if (isWhitespace(r)) return skipTo(lx, lexMapValueEnd);
  if (r === C.hash) {
    lx.push(lexMapValueEnd);
    return lexCommentStart;
  }
  if (r === C.slash) {
    if (lx.next() === C.slash) {
      lx.push(lexMapValueEnd);
      return lexCommentStart;
    }
    lx.backup();
    return skipTo(lx, lexMapKeyStart);
  }
  if (r === C.semicolon || r === C.comma || isNL(r)) return skipTo(lx, lexMapKeyStart);
  if (r === C.mapEnd) return skipTo(lx, lexMapEnd);
  return lx.errorf(`expected ',' or '}' after a map value, but got ${show(r)}`);
}

function lexMapEnd(lx: Lexer): State | null {
  lx.ignore();
  lx.emit("mapEnd");
  return lx.pop();
}

// ---- strings ----

function lexQuotedString(lx: Lexer): State | null {
  const r = lx.next();
  if (r === C.sq) {
    lx.backup();
    lx.emit("string");
    lx.next();
    lx.ignore();
    return lx.pop();
  }
  if (r === EOF) {
    if (lx.pos > lx.start) return lx.errorf("unexpected end of input in a quoted string");
    lx.emit("eof");
    return null;
  }
  return lexQuotedString;
}

function lexDubQuotedString(lx: Lexer): State | null {
  const r = lx.next();
  if (r === C.backslash) {
    lx.addCurrentStringPart(1);
    return lexStringEscape;
  }
  if (r === C.dq) {
    lx.backup();
    lx.emitString();
    lx.next();
    lx.ignore();
    return lx.pop();
  }
  if (r === EOF) {
    if (lx.pos > lx.start) return lx.errorf("unexpected end of input in a quoted string");
    lx.emit("eof");
    return null;
  }
  return lexDubQuotedString;
}

function lexString(lx: Lexer): State | null {
  const r = lx.next();
  if (r === C.backslash) {
    lx.addCurrentStringPart(1);
    return lexStringEscape;
  }
  if (
    isNL(r) ||
    r === EOF ||
    r === C.semicolon ||
    r === C.comma ||
    r === C.arrayEnd ||
    r === C.mapEnd ||
    isWhitespace(r)
  ) {
    lx.backup();
    if (lx.hasEscapedParts()) lx.emitString();
    else if (lx.isBool()) lx.emit("bool");
    else if (lx.isVariable()) lx.emit("variable");
    else lx.emitString();
    return lx.pop();
  }
  if (r === C.sq) {
    lx.backup();
    lx.emitString();
    lx.next();
    lx.ignore();
    return lx.pop();
  }
  return lexString;
}

// A block is `(` ... `)` where the closing parenthesis stands alone on its line; the text between is
// a string taken verbatim.
function lexBlock(lx: Lexer): State | null {
  const r = lx.next();
  if (r === C.blockEnd) {
    lx.backup();
    lx.backup();
    if (lx.next() !== C.nl) {
      lx.next();
      return lexBlock;
    }
    lx.next();
    const after = lx.next();
    if (after === C.nl || after === EOF) {
      lx.backup();
      lx.backup();
      lx.emit("string");
      lx.next();
      lx.ignore();
      return lx.pop();
    }
    lx.backup();
    return lexBlock;
  }
  if (r === EOF) return lx.errorf("unexpected end of input in a block: a block ends with ')' alone on a line");
  return lexBlock;
}

function lexStringEscape(lx: Lexer): State | null {
  const r = lx.next();
  switch (r) {
    case ch("x"):
      return lexStringBinary;
    case ch("t"):
      return lx.addStringPart(Buffer.from("\t"));
    case ch("n"):
      return lx.addStringPart(Buffer.from("\n"));
    case ch("r"):
      return lx.addStringPart(Buffer.from("\r"));
    case ch('"'):
      return lx.addStringPart(Buffer.from('"'));
    case ch("\\"):
      return lx.addStringPart(Buffer.from("\\"));
  }
  return lx.errorf(`invalid escape character ${show(r)}; only \\xXX, \\t, \\n, \\r, \\" and \\\\ are allowed`);
}

function lexStringBinary(lx: Lexer): State | null {
  const first = lx.next();
  const firstAt = lx.pos - lx.width;
  if (isNL(first)) return lx.errorf("expected two hexadecimal digits after '\\x', but hit the end of the line");
  const second = lx.next();
  if (isNL(second)) return lx.errorf("expected two hexadecimal digits after '\\x', but hit the end of the line");
  const hex = lx.input.slice(firstAt, lx.pos);
  if (!/^[0-9a-fA-F]{2}$/.test(hex)) return lx.errorf(`expected two hexadecimal digits after '\\x', but got '${hex}'`);
  // \xNN is a raw byte, as in Go: consecutive escapes can spell a multi-byte UTF-8 character.
  lx.addStringPart(Buffer.from([parseInt(hex, 16)]));
  return lx.stringState;
}

// ---- numbers, dates, and strings that start like numbers ----

function lexNumberOrDateOrStringOrIPStart(lx: Lexer): State | null {
  const r = lx.next();
  if (!isDigit(r)) {
    if (r === C.dot) return lx.errorf("floats must start with a digit, not '.'");
    return lx.errorf(`expected a digit but got ${show(r)}`);
  }
  return lexNumberOrDateOrStringOrIP;
}

function endsNumber(r: number): boolean {
  return isNL(r) || r === EOF || r === C.mapEnd || r === C.semicolon || r === C.comma || isWhitespace(r) || isDigit(r);
}

function lexNumberOrDateOrStringOrIP(lx: Lexer): State | null {
  const r = lx.next();
  if (r === C.minus) {
    if (lx.pos - lx.start !== 5) return lx.errorf("dates must be in full ISO 8601 Zulu form (YYYY-MM-DDTHH:MM:SSZ); quote the value if it is a string");
    return lexDateAfterYear;
  }
  if (isDigit(r)) return lexNumberOrDateOrStringOrIP;
  if (r === C.dot) return lexFloatStart;
  if (isNumberSuffix(r)) return lexConvenientNumber;
  if (!endsNumber(r)) {
    // A character that cannot follow a number: the whole value is an unquoted string, like `4222abc`.
    lx.stringState = lexString;
    return lexString;
  }
  lx.backup();
  lx.emit("integer");
  return lx.pop();
}

// A size suffix such as `1k`, `1KB`, `1Mi`, `1GiB`.
function lexConvenientNumber(lx: Lexer): State | null {
  const r = lx.next();
  if (r === ch("b") || r === ch("B") || r === ch("i") || r === ch("I")) return lexConvenientNumber;
  lx.backup();
  if (endsNumber(r)) {
    lx.emit("integer");
    return lx.pop();
  }
  lx.stringState = lexString;
  return lexString;
}

const DATE_AFTER_YEAR = "00-00T00:00:00Z";

function lexDateAfterYear(lx: Lexer): State | null {
  for (const f of DATE_AFTER_YEAR) {
    const r = lx.next();
    if (f === "0") {
      if (!isDigit(r)) return lx.errorf(`expected a digit in an ISO 8601 date, but found ${show(r)}`);
    } else if (r !== ch(f)) {
      return lx.errorf(`expected '${f}' in an ISO 8601 date, but found ${show(r)}`);
    }
  }
  lx.emit("datetime");
  return lx.pop();
}

function lexNegNumberStart(lx: Lexer): State | null {
  const r = lx.next();
  if (!isDigit(r)) {
    if (r === C.dot) return lx.errorf("floats must start with a digit, not '.'");
    return lx.errorf(`expected a digit after '-' but got ${show(r)}`);
  }
  return lexNegNumber;
}

function lexNegNumber(lx: Lexer): State | null {
  const r = lx.next();
  if (isDigit(r)) return lexNegNumber;
  if (r === C.dot) return lexFloatStart;
  if (isNumberSuffix(r)) return lexConvenientNumber;
  lx.backup();
  lx.emit("integer");
  return lx.pop();
}

function lexFloatStart(lx: Lexer): State | null {
  const r = lx.next();
  if (!isDigit(r)) return lx.errorf(`floats must have a digit after the '.', but got ${show(r)}`);
  return lexFloat;
}

function lexFloat(lx: Lexer): State | null {
  const r = lx.next();
  if (isDigit(r)) return lexFloat;
  // A second '.' means this was an IP address (maybe with a port), not a float.
  if (r === C.dot) return lexIPAddr;
  lx.backup();
  lx.emit("float");
  return lx.pop();
}

function lexIPAddr(lx: Lexer): State | null {
  const r = lx.next();
  if (isDigit(r) || r === C.dot || r === C.colon || r === C.minus) return lexIPAddr;
  lx.backup();
  lx.emit("string");
  return lx.pop();
}

// ---- comments ----

function lexCommentStart(lx: Lexer): State | null {
  lx.ignore();
  lx.emit("commentStart");
  return lexComment;
}

function lexComment(lx: Lexer): State | null {
  const r = lx.peek();
  if (isNL(r) || r === EOF) {
    lx.emit("text");
    return lx.pop();
  }
  lx.next();
  return lexComment;
}

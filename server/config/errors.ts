// Errors and source positions shared by the config lexer, parser, key mapping and flag parser.

export interface SourcePos {
  file: string;
  line: number; // 1-based
  col: number; // 1-based, in UTF-16 code units
}

export function formatPos(p: SourcePos): string {
  return `${p.file}:${p.line}:${p.col}`;
}

// The caller prints `message` and exits 1, so it must be one line: a config value may contain
// newlines (block strings, escapes) and would otherwise split the message.
function oneLine(s: string): string {
  return s.replace(/\r?\n|\r/g, "\\n");
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly pos: SourcePos | undefined;

  constructor(message: string, pos?: SourcePos) {
    super(oneLine(pos ? `${formatPos(pos)}: ${message}` : message));
    this.pos = pos;
  }
}

// Used by the flag parser so every flag problem reads the same way.
export function flagError(flag: string, message: string): ConfigError {
  return new ConfigError(`flag ${flag}: ${message}`);
}

export function warningAt(pos: SourcePos, message: string): string {
  return oneLine(`${formatPos(pos)}: ${message}`);
}

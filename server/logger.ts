// Logging through pino. By default each record is written in nats-server's text format
// ("[PID] 2006/01/02 15:04:05.000000 [INF] msg"), because harnesses and people read that;
// with `logJson` the same records go out as pino's JSON lines for log shippers.

import { pino, type Logger as PinoLogger, type DestinationStream } from "pino";
import { closeSync, openSync, writeSync } from "node:fs";

export interface LogOptions {
  debug: boolean;
  trace: boolean;
  logtime: boolean;
  logJson: boolean;
  logFile?: string;
  /** Write synchronously (the default is synchronous too: log lines must not be lost on a crash). */
}

export interface Logger {
  readonly traceEnabled: boolean;
  readonly debugEnabled: boolean;
  trace(msg: string): void;
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  fatal(msg: string): void;
  /** Applies new levels/format (config reload). */
  configure(o: LogOptions): void;
  /** Re-opens the log file (SIGUSR1, after rotation). */
  reopen(): void;
  close(): void;
}

const LABELS: Record<number, string> = { 10: "TRC", 20: "DBG", 30: "INF", 40: "WRN", 50: "ERR", 60: "FTL" };

function pad(n: number, w: number): string {
  return String(n).padStart(w, "0");
}

/** Go's log timestamp with microseconds, in local time: 2006/01/02 15:04:05.000000 */
export function natsTimestamp(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}/${pad(d.getMonth() + 1, 2)}/${pad(d.getDate(), 2)} ${pad(d.getHours(), 2)}:${pad(d.getMinutes(), 2)}:${pad(d.getSeconds(), 2)}.${pad(d.getMilliseconds(), 3)}000`;
}

/** A file descriptor sink that can be re-opened. */
class FdSink {
  private fd: number;
  constructor(private readonly path: string | undefined) {
    this.fd = path ? openSync(path, "a") : 2;
  }
  write(s: string): void {
    try {
      writeSync(this.fd, s);
    } catch {
      // A log write failing (closed stderr, full disk) must not take the server down.
    }
  }
  reopen(): void {
    if (!this.path) return;
    const old = this.fd;
    this.fd = openSync(this.path, "a");
    closeSync(old);
  }
  close(): void {
    if (this.path) closeSync(this.fd);
  }
}

class TextDestination implements DestinationStream {
  constructor(
    private readonly sink: FdSink,
    private readonly logtime: boolean,
  ) {}
  write(line: string): void {
    let rec: { level: number; time: number; msg: string };
    try {
      rec = JSON.parse(line);
    } catch {
      this.sink.write(line);
      return;
    }
    const ts = this.logtime ? `${natsTimestamp(rec.time)} ` : "";
    this.sink.write(`[${process.pid}] ${ts}[${LABELS[rec.level] ?? "INF"}] ${rec.msg}\n`);
  }
}

class JsonDestination implements DestinationStream {
  constructor(private readonly sink: FdSink) {}
  write(line: string): void {
    this.sink.write(line);
  }
}

function levelOf(o: LogOptions): pino.Level {
  return o.trace ? "trace" : o.debug ? "debug" : "info";
}

export function createLogger(opts: LogOptions): Logger {
  let sink = new FdSink(opts.logFile);
  let current = opts;
  let p: PinoLogger = build(opts, sink);

  function build(o: LogOptions, s: FdSink): PinoLogger {
    const dest = o.logJson ? new JsonDestination(s) : new TextDestination(s, o.logtime);
    return pino({ level: levelOf(o), base: o.logJson ? { pid: process.pid } : null }, dest);
  }

  const logger: Logger = {
    get traceEnabled() {
      return p.isLevelEnabled("trace");
    },
    get debugEnabled() {
      return p.isLevelEnabled("debug");
    },
    trace: (m) => p.trace(m),
    debug: (m) => p.debug(m),
    info: (m) => p.info(m),
    warn: (m) => p.warn(m),
    error: (m) => p.error(m),
    fatal: (m) => p.fatal(m),
    configure(o) {
      if (o.logFile !== current.logFile) {
        sink.close();
        sink = new FdSink(o.logFile);
      }
      current = o;
      p = build(o, sink);
    },
    reopen: () => sink.reopen(),
    close: () => sink.close(),
  };
  return logger;
}

/** A logger that drops everything (tests that embed a server). */
export function silentLogger(): Logger {
  const noop = () => {};
  return { traceEnabled: false, debugEnabled: false, trace: noop, debug: noop, info: noop, warn: noop, error: noop, fatal: noop, configure: noop, reopen: noop, close: noop };
}

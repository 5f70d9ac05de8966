#!/usr/bin/env node
// The command line entry point: the same flags, config file, signals, pid and ports files that
// harnesses expect of nats-server.

import { renameSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadOptions, reloadOptions, type LoadResult } from "./config/load.js";
import { ConfigError } from "./config/errors.js";
import { usage } from "./config/flags.js";
import { createLogger, type Logger } from "./logger.js";
import { Server } from "./server.js";
import { VERSION } from "./version.js";
import { installExtensions, refuseUnsupported, unsupportedWarnings } from "./extensions.js";

function fail(msg: string): never {
  process.stderr.write(`nats-server: ${msg}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  let loaded: LoadResult;
  try {
    loaded = loadOptions(argv, process.env);
  } catch (e) {
    if (e instanceof ConfigError) fail(e.message);
    throw e;
  }
  if (loaded.action === "version") {
    process.stdout.write(`nats-server: v${VERSION}\n`);
    return;
  }
  if (loaded.action === "help") {
    process.stdout.write(usage());
    return;
  }
  const opts = loaded.options;
  const refused = refuseUnsupported(opts);
  if (loaded.action === "test") {
    if (refused) fail(refused);
    // Like nats-server -t, warnings (unknown fields) make the check fail.
    for (const w of loaded.warnings) process.stderr.write(`nats-server: ${w}\n`);
    if (loaded.warnings.length > 0) process.exit(1);
    process.stderr.write(`nats-server: configuration file ${opts.configFile ?? ""} is valid\n`);
    return;
  }

  const log = createLogger({ debug: opts.debug, trace: opts.trace, logtime: opts.logtime, logJson: opts.logJson, logFile: opts.logFile });
  for (const w of [...loaded.warnings, ...unsupportedWarnings(opts)]) log.warn(w);
  if (refused) {
    log.fatal(refused);
    process.exit(1);
  }

  const server = new Server(opts, log);
  installExtensions(server, opts, log);
  try {
    await server.start();
  } catch (e) {
    log.fatal(`Error listening on port: ${(e as Error).message}`);
    process.exit(1);
  }

  const files: string[] = [];
  if (opts.pidFile) {
    writeFileSync(opts.pidFile, String(process.pid));
    files.push(opts.pidFile);
  }
  if (opts.portsFileDir) {
    const f = join(opts.portsFileDir, `nats-server_${process.pid}.ports`);
    // Written aside and renamed into place, so a harness polling the directory never reads half a file.
    writeFileSync(`${f}.tmp`, JSON.stringify(server.portsReport()));
    renameSync(`${f}.tmp`, f);
    files.push(f);
  }
  log.info("Server is ready");

  let stopping = false;
  const stop = async (sig: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`Trapped "${sig}" signal`);
    await server.shutdown();
    cleanup(files);
    log.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("terminated"));
  process.on("SIGINT", () => void stop("interrupt"));
  process.on("SIGHUP", () => reload(server, loaded, log));
  process.on("SIGUSR1", () => {
    log.reopen();
    log.info("Reopened log file");
  });
  process.on("SIGUSR2", () => {
    void server.enterLameDuck().then(() => {
      cleanup(files);
      process.exit(0);
    });
  });
}

function reload(server: Server, previous: LoadResult, log: Logger): void {
  try {
    const next = reloadOptions(previous);
    const refused = refuseUnsupported(next.options);
    if (refused) throw new Error(refused);
    const warnings = server.reload(next.options, next.changed);
    for (const w of [...next.warnings, ...warnings]) log.warn(w);
    previous.options = next.options;
    log.info("Reloaded server configuration");
  } catch (e) {
    log.error(`Failed to reload server configuration: ${(e as Error).message}`);
  }
}

function cleanup(files: string[]): void {
  for (const f of files) {
    try {
      unlinkSync(f);
    } catch {
      // Already gone.
    }
  }
}

process.on("uncaughtException", (e) => {
  process.stderr.write(`[${process.pid}] [FTL] uncaught exception: ${e.stack ?? e}\n`);
  process.exit(2);
});

void main();

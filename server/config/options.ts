// The resolved server options: one object, produced by loadOptions from defaults, the config file
// and the command line, in that order of precedence (last wins). Durations are milliseconds, sizes
// are bytes. Defaults are nats-server 2.9.10's (server/const.go) unless a comment says otherwise.

import type { z } from "zod";
import type {
  accountSchema,
  exportSchema,
  importSchema,
  mappingDestSchema,
  permissionsSchema,
  serverOptionsSchema,
  subjectPermissionSchema,
  userEntrySchema,
} from "./schema.js";

export type ServerOptions = z.infer<typeof serverOptionsSchema>;
export type SubjectPermission = z.infer<typeof subjectPermissionSchema>;
export type Permissions = z.infer<typeof permissionsSchema>;
export type UserEntry = z.infer<typeof userEntrySchema>;
export type AccountEntry = z.infer<typeof accountSchema>;
export type ExportEntry = z.infer<typeof exportSchema>;
export type ImportEntry = z.infer<typeof importSchema>;
export type MappingDest = z.infer<typeof mappingDestSchema>;
export type UnsupportedOption = ServerOptions["unsupported"][number];

export const DEFAULT_PORT = 4222;
export const DEFAULT_HOST = "0.0.0.0";
export const DEFAULT_HTTP_PORT = 8222;
export const MAX_PAYLOAD_SIZE = 1024 * 1024;
// nats-server warns above this payload size.
export const MAX_PAYLOAD_MAX_SIZE = 8 * 1024 * 1024;
export const MAX_CONTROL_LINE_SIZE = 4096;
export const MAX_PENDING_SIZE = 64 * 1024 * 1024;
export const DEFAULT_MAX_CONNECTIONS = 64 * 1024;
export const DEFAULT_PING_INTERVAL_MS = 2 * 60_000;
export const DEFAULT_PING_MAX_OUT = 2;
export const DEFAULT_WRITE_DEADLINE_MS = 10_000;
export const AUTH_TIMEOUT_MS = 2_000;
export const TLS_TIMEOUT_MS = 2_000;
export const DEFAULT_LAME_DUCK_DURATION_MS = 2 * 60_000;
export const DEFAULT_LAME_DUCK_GRACE_PERIOD_MS = 10_000;
export const DEFAULT_ALLOW_RESPONSE_MAX_MSGS = 1;
export const DEFAULT_ALLOW_RESPONSE_EXPIRATION_MS = 2 * 60_000;
export const DEFAULT_CONNECT_ERROR_REPORTS = 3600;
export const DEFAULT_RECONNECT_ERROR_REPORTS = 1;
// nats-server 2.9.10 has no websocket handshake timeout unless configured; an unbounded handshake
// is a resource leak, so tsnats defaults to the TLS handshake timeout.
export const DEFAULT_WS_HANDSHAKE_TIMEOUT_MS = 2_000;

export function defaultOptions(): ServerOptions {
  return {
    host: DEFAULT_HOST,
    port: DEFAULT_PORT,
    serverName: "",
    maxPayload: MAX_PAYLOAD_SIZE,
    maxControlLine: MAX_CONTROL_LINE_SIZE,
    maxConnections: DEFAULT_MAX_CONNECTIONS,
    maxSubscriptions: 0,
    maxPending: MAX_PENDING_SIZE,
    maxSubTokens: 0,
    maxTracedMsgLen: 0,
    writeDeadlineMs: DEFAULT_WRITE_DEADLINE_MS,
    pingIntervalMs: DEFAULT_PING_INTERVAL_MS,
    pingMax: DEFAULT_PING_MAX_OUT,
    noHeaderSupport: false,
    noSublistCache: false,
    authTimeoutMs: AUTH_TIMEOUT_MS,
    noSystemAccount: false,
    lameDuckDurationMs: DEFAULT_LAME_DUCK_DURATION_MS,
    lameDuckGracePeriodMs: DEFAULT_LAME_DUCK_GRACE_PERIOD_MS,
    debug: false,
    trace: false,
    traceVerbose: false,
    // nats-server's -T flag defaults to true.
    logtime: true,
    logJson: false,
    connectErrorReports: DEFAULT_CONNECT_ERROR_REPORTS,
    reconnectErrorReports: DEFAULT_RECONNECT_ERROR_REPORTS,
    unsupported: [],
  };
}

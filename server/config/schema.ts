// The zod schema of the resolved server options. The key mapping checks each value's type where it
// reads it (so it can point at the source); this schema checks ranges and cross-field shape of the
// final object, and its issue paths are mapped back to file:line:column by load.ts.

import { z } from "zod";

const INT32_MAX = 2 ** 31 - 1;

const int = () => z.number().int();
const port = () => int().min(-1).max(65535);
const durationMs = () => z.number().min(0);

export const subjectPermissionSchema = z.strictObject({
  allow: z.array(z.string()).optional(),
  deny: z.array(z.string()).optional(),
});

export const permissionsSchema = z.strictObject({
  publish: subjectPermissionSchema.optional(),
  subscribe: subjectPermissionSchema.optional(),
  // Negative maxMsgs / expiresMs mean unlimited, as in nats-server.
  allowResponses: z.strictObject({ maxMsgs: int(), expiresMs: z.number() }).optional(),
});

export const userEntrySchema = z.strictObject({
  // For an nkey user, its public nkey (and `nkey` says so).
  user: z.string(),
  nkey: z.string().optional(),
  password: z.string().optional(),
  permissions: permissionsSchema.optional(),
  // The account the user belongs to; absent means the global account ($G).
  account: z.string().optional(),
  // Upper-cased: STANDARD, WEBSOCKET, LEAFNODE, LEAFNODE_WS, MQTT, MQTT_WS.
  allowedConnectionTypes: z.array(z.string()).optional(),
});

export const accountJetStreamSchema = z.strictObject({
  enabled: z.boolean(),
  // -1 means unlimited, as in nats-server.
  limits: z
    .strictObject({
      maxMemory: int(),
      maxStore: int(),
      maxStreams: int(),
      maxConsumers: int(),
      maxBytesRequired: z.boolean(),
      memoryMaxStreamBytes: int(),
      storeMaxStreamBytes: int(),
      maxAckPending: int(),
    })
    .optional(),
});

export const exportSchema = z.strictObject({
  stream: z.string().optional(),
  service: z.string().optional(),
  accounts: z.array(z.string()).optional(),
  responseType: z.enum(["singleton", "stream", "chunked"]).optional(),
  responseThresholdMs: durationMs().optional(),
  latency: z.strictObject({ subject: z.string(), sampling: z.union([int().min(1).max(100), z.literal("headers")]) }).optional(),
  accountTokenPosition: int().min(0).optional(),
});

export const importSchema = z.strictObject({
  stream: z.strictObject({ account: z.string(), subject: z.string() }).optional(),
  service: z.strictObject({ account: z.string(), subject: z.string() }).optional(),
  prefix: z.string().optional(),
  to: z.string().optional(),
  share: z.boolean().optional(),
});

export const mappingDestSchema = z.strictObject({
  destination: z.string(),
  weight: int().min(0).max(100),
  cluster: z.string().optional(),
});

export const accountSchema = z.strictObject({
  users: z.array(userEntrySchema),
  jetstream: accountJetStreamSchema.optional(),
  exports: z.array(exportSchema).optional(),
  imports: z.array(importSchema).optional(),
  mappings: z.record(z.string(), z.array(mappingDestSchema)).optional(),
  defaultPermissions: permissionsSchema.optional(),
  limits: z
    .strictObject({ maxConnections: int().optional(), maxSubscriptions: int().optional(), maxPayload: int().optional(), maxLeafnodes: int().optional() })
    .optional(),
});

export const serverOptionsSchema = z.strictObject({
  configFile: z.string().optional(),
  host: z.string(),
  // -1 asks for a random free port (listen on 0).
  port: port(),
  serverName: z.string(),
  clientAdvertise: z.string().optional(),
  maxPayload: int().min(1).max(INT32_MAX),
  maxControlLine: int().min(1).max(INT32_MAX),
  // <= 0 after defaults: unlimited (nats-server only enforces a positive limit)
  maxConnections: int(),
  // 0 = unlimited
  maxSubscriptions: int(),
  maxPending: int().min(1),
  // 0 = unlimited
  maxSubTokens: int().min(0).max(255),
  // 0 = unlimited
  maxTracedMsgLen: int().min(0),
  writeDeadlineMs: durationMs(),
  pingIntervalMs: durationMs(),
  pingMax: int(),
  noHeaderSupport: z.boolean(),
  noSublistCache: z.boolean(),
  authorization: z
    .strictObject({
      token: z.string().optional(),
      user: z.string().optional(),
      password: z.string().optional(),
      users: z.array(userEntrySchema).optional(),
      // Default permissions; already applied to `users` that have none of their own.
      permissions: permissionsSchema.optional(),
      timeoutMs: durationMs().optional(),
    })
    .optional(),
  authTimeoutMs: durationMs(),
  noAuthUser: z.string().optional(),
  systemAccount: z.string().optional(),
  noSystemAccount: z.boolean(),
  lameDuckDurationMs: durationMs().min(30_000),
  lameDuckGracePeriodMs: durationMs(),
  pidFile: z.string().optional(),
  portsFileDir: z.string().optional(),
  logFile: z.string().optional(),
  debug: z.boolean(),
  trace: z.boolean(),
  traceVerbose: z.boolean(),
  logtime: z.boolean(),
  logJson: z.boolean(),
  http: z.strictObject({ host: z.string(), port: port(), basePath: z.string() }).optional(),
  jetstream: z
    .strictObject({
      enabled: z.boolean(),
      storeDir: z.string().optional(),
      // -1 = let the server pick (nats-server: 75% of memory / 1TB of disk)
      maxMemoryStore: int().min(-1),
      maxFileStore: int().min(-1),
      domain: z.string().optional(),
      syncInterval: z.union([z.literal("always"), durationMs()]),
    })
    .optional(),
  cluster: z
    .strictObject({
      name: z.string().optional(),
      host: z.string(),
      // 0 = no route listener (nats-server's behaviour for a cluster block without a port)
      port: port(),
      routes: z.array(z.string()),
      advertise: z.string().optional(),
      noAdvertise: z.boolean(),
      connectRetries: int().min(0),
      authorization: z.strictObject({ user: z.string().optional(), password: z.string().optional(), timeoutMs: durationMs().optional() }).optional(),
      // Route permissions: what remote servers may send us (import) and ask us for (export).
      permissions: z.strictObject({ import: subjectPermissionSchema.optional(), export: subjectPermissionSchema.optional() }).optional(),
    })
    .optional(),
  websocket: z
    .strictObject({
      host: z.string(),
      // 0 = no websocket listener
      port: port(),
      advertise: z.string().optional(),
      noTls: z.boolean(),
      compression: z.boolean(),
      sameOrigin: z.boolean(),
      allowedOrigins: z.array(z.string()),
      handshakeTimeoutMs: durationMs(),
    })
    .optional(),
  tls: z
    .strictObject({
      certFile: z.string().optional(),
      keyFile: z.string().optional(),
      caFile: z.string().optional(),
      verify: z.boolean(),
      insecure: z.boolean(),
      timeoutMs: durationMs(),
      handshakeFirst: z.boolean(),
    })
    .optional(),
  accounts: z.record(z.string(), accountSchema).optional(),
  // The global account's subject mappings.
  mappings: z.record(z.string(), z.array(mappingDestSchema)).optional(),
  // Operator JWT files (or inline JWTs).
  operator: z.array(z.string()).optional(),
  trustedKeys: z.array(z.string()).optional(),
  // Plain JSON rendering of the resolver config ("MEM", "URL(...)" or the directory resolver map).
  resolver: z.unknown().optional(),
  resolverPreload: z.record(z.string(), z.string()).optional(),
  serverTags: z.array(z.string()).optional(),
  connectErrorReports: int().min(1),
  reconnectErrorReports: int().min(1),
  // Keys that parsed but that tsnats does not implement. The server refuses to start when one with
  // weakensSecurity is present: ignoring it would leave the server more open than configured.
  unsupported: z.array(z.strictObject({ path: z.string(), where: z.string(), weakensSecurity: z.boolean() })),
});

// Listener blocks: `cluster`, `websocket`, `tls` (server/opts.go's parseCluster, parseWebsocket,
// parseTLS) and the URL checks they share.

import { X509Certificate, createPrivateKey } from "node:crypto";
import { readFileSync } from "node:fs";
import { TLS_TIMEOUT_MS, DEFAULT_WS_HANDSHAKE_TIMEOUT_MS, type ServerOptions } from "./options.js";
import { parsePermissions, readAuthTimeout } from "./keys-auth.js";
import { readListen, type Field, type Reader } from "./reader.js";

const lower = (f: Field): string => f.key.toLowerCase();

// The subset of Go's url.Parse failures that a config can plausibly hit.
export function urlProblem(raw: string): string | undefined {
  const s = raw.trim();
  if (/[\x00-\x1f\x7f]/.test(s)) return "contains a control character";
  if (/%(?![0-9a-fA-F]{2})/.test(s)) return "contains an invalid %-escape";
  if (s.startsWith(":")) return "missing protocol scheme";
  const m = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/([^/?#]*)/.exec(s);
  if (!m) return undefined;
  const authority = m[1]!;
  const host = authority.slice(authority.lastIndexOf("@") + 1);
  if (/\s/.test(host)) return "invalid character in host name";
  let port: string | undefined;
  if (host.startsWith("[")) {
    const end = host.indexOf("]");
    if (end < 0) return "missing ']' in host";
    const rest = host.slice(end + 1);
    if (rest !== "" && !rest.startsWith(":")) return "invalid characters after ']'";
    port = rest === "" ? undefined : rest.slice(1);
  } else {
    const i = host.lastIndexOf(":");
    if (i >= 0) port = host.slice(i + 1);
  }
  if (port !== undefined && !/^[0-9]*$/.test(port)) return `invalid port ":${port}" after host`;
  return undefined;
}

// ---- tls ----

export type TlsOptions = NonNullable<ServerOptions["tls"]>;

const CIPHERS = new Set([
  "TLS_RSA_WITH_RC4_128_SHA",
  "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
  "TLS_RSA_WITH_AES_128_CBC_SHA",
  "TLS_RSA_WITH_AES_128_CBC_SHA256",
  "TLS_RSA_WITH_AES_256_CBC_SHA",
  "TLS_RSA_WITH_AES_256_GCM_SHA384",
  "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA",
  "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
  "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
  "TLS_ECDHE_RSA_WITH_RC4_128_SHA",
  "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
  "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
  "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
  "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
  "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
  "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
  "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
  "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
  "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
  "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
  "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
  "TLS_AES_128_GCM_SHA256",
  "TLS_AES_256_GCM_SHA384",
  "TLS_CHACHA20_POLY1305_SHA256",
]);
const CURVES = new Set(["X25519", "CurveP256", "CurveP384", "CurveP521"]);

export function newTls(): TlsOptions {
  return { verify: false, insecure: false, timeoutMs: TLS_TIMEOUT_MS, handshakeFirst: false };
}

// Throws a message when the certificate, key or CA file cannot be used, as nats-server does when it
// loads them while reading the config.
export function checkTlsFiles(t: Pick<TlsOptions, "certFile" | "keyFile" | "caFile">): string | undefined {
  if (t.certFile && !t.keyFile) return "missing 'key_file' in TLS configuration";
  if (!t.certFile && t.keyFile) return "missing 'cert_file' in TLS configuration";
  const load = (file: string, what: string, check: (pem: Buffer) => void): string | undefined => {
    let pem: Buffer;
    try {
      pem = readFileSync(file);
    } catch (e) {
      return `cannot read ${what} ${file}: ${(e as Error).message}`;
    }
    try {
      check(pem);
    } catch (e) {
      return `cannot parse ${what} ${file}: ${(e as Error).message}`;
    }
    return undefined;
  };
  if (t.certFile && t.keyFile) {
    const p =
      load(t.certFile, "certificate", (pem) => new X509Certificate(pem)) ??
      load(t.keyFile, "private key", (pem) => createPrivateKey(pem));
    if (p) return p;
  }
  if (t.caFile) return load(t.caFile, "CA certificate", (pem) => new X509Certificate(pem));
  return undefined;
}

export function parseTls(r: Reader, f: Field, context: "client" | "route"): TlsOptions {
  const t = newTls();
  const where: Partial<Record<"certFile" | "keyFile" | "caFile", Field>> = {};
  for (const tf of r.fields(f)) {
    switch (lower(tf)) {
      case "cert_file":
        t.certFile = r.string(tf);
        where.certFile = tf;
        break;
      case "key_file":
        t.keyFile = r.string(tf);
        where.keyFile = tf;
        break;
      case "ca_file":
        t.caFile = r.string(tf);
        where.caFile = tf;
        break;
      case "insecure":
        t.insecure = r.bool(tf);
        break;
      case "verify":
        t.verify = r.bool(tf);
        break;
      case "verify_and_map":
        if (r.bool(tf)) {
          t.verify = true;
          // Certificate-to-user mapping is authentication; without it clients would not be mapped.
          r.markUnsupported(tf, true);
        }
        break;
      case "verify_cert_and_check_known_urls":
        if (r.bool(tf)) {
          if (context === "client") r.fail(tf, "verify_cert_and_check_known_urls is not supported in this context");
          t.verify = true;
          r.markUnsupported(tf, true);
        }
        break;
      case "cipher_suites": {
        const items = r.items(tf);
        if (items.length === 0) r.fail(tf, "'cipher_suites' cannot be empty");
        for (const i of items) if (!CIPHERS.has(r.string(i))) r.fail(i, `unrecognized cipher ${JSON.stringify(r.string(i))}`);
        r.markUnsupported(tf, true);
        break;
      }
      case "curve_preferences": {
        const items = r.items(tf);
        if (items.length === 0) r.fail(tf, "'curve_preferences' cannot be empty");
        for (const i of items) if (!CURVES.has(r.string(i))) r.fail(i, `unrecognized curve preference ${JSON.stringify(r.string(i))}`);
        r.markUnsupported(tf, true);
        break;
      }
      case "timeout":
        // Seconds (integer or float), or a duration string.
        t.timeoutMs = tf.node.kind === "string" ? r.durationMs(tf, { secondsAllowed: false }) : r.number(tf) * 1000;
        break;
      case "connection_rate_limit":
        r.int(tf);
        r.markUnsupported(tf, false);
        break;
      case "pinned_certs": {
        const items = r.items(tf);
        for (const i of items) {
          if (!/^[a-f0-9]{64}$/.test(r.string(i).toLowerCase())) {
            r.fail(i, "pinned_certs entries must be hex-encoded SHA-256 digests of a DER SubjectPublicKeyInfo");
          }
        }
        if (items.length > 0) r.markUnsupported(tf, true);
        break;
      }
      case "handshake_first":
        // A tsnats/nats-server 2.10 option: TLS before INFO.
        t.handshakeFirst = r.bool(tf);
        break;
      default:
        // nats-server fails on unknown TLS keys; a misspelt `verify` must not silently disable checks.
        r.fail(tf, "unknown field in tls configuration");
    }
  }
  const problem = checkTlsFiles(t);
  if (problem) r.fail(where.certFile ?? where.keyFile ?? where.caFile ?? f, problem);
  return t;
}

// ---- cluster ----

export type ClusterOptions = NonNullable<ServerOptions["cluster"]>;

export function newCluster(): ClusterOptions {
  return { host: "", port: 0, routes: [], noAdvertise: false, connectRetries: 0 };
}

export function parseCluster(r: Reader, opts: ServerOptions, f: Field): void {
  const c = (opts.cluster ??= newCluster());
  r.source("cluster", f);
  let permissionsFromBlock = false;
  for (const cf of r.fields(f)) {
    switch (lower(cf)) {
      case "name":
        c.name = r.string(cf);
        r.source("cluster.name", cf);
        break;
      case "listen": {
        const hp = readListen(r, cf);
        if (hp.host !== undefined) c.host = hp.host;
        c.port = hp.port;
        r.source("cluster.port", cf);
        r.source("cluster.host", cf);
        break;
      }
      case "port":
        c.port = r.int(cf);
        r.source("cluster.port", cf);
        break;
      case "host":
      case "net":
        c.host = r.string(cf);
        r.source("cluster.host", cf);
        break;
      case "authorization": {
        const auth: NonNullable<ClusterOptions["authorization"]> = {};
        for (const af of r.fields(cf)) {
          switch (lower(af)) {
            case "user":
            case "username":
              auth.user = r.string(af);
              break;
            case "pass":
            case "password":
              auth.password = r.string(af);
              break;
            case "timeout":
              auth.timeoutMs = readAuthTimeout(r, af);
              break;
            case "token":
              r.fail(af, "cluster authorization does not support tokens");
              break;
            case "users":
              r.fail(af, "cluster authorization does not allow multiple users");
              break;
            case "permissions":
            case "default_permission":
            case "default_permissions": {
              r.warn(af, 'setting "permissions" within cluster authorization is deprecated; set it in the cluster block');
              const p = parsePermissions(r, af, "cluster");
              if (!permissionsFromBlock) c.permissions = routePermissions(p);
              break;
            }
            default:
              r.unknown(af);
          }
        }
        c.authorization = auth;
        break;
      }
      case "routes": {
        const seen = new Set<string>();
        c.routes = [];
        for (const item of r.items(cf)) {
          const url = r.string(item);
          if (seen.has(url)) {
            r.warn(item, "duplicate route entry ignored");
            continue;
          }
          seen.add(url);
          const problem = urlProblem(url);
          if (problem) r.fail(item, `error parsing route url ${JSON.stringify(url)}: ${problem}`);
          c.routes.push(url.trim());
        }
        r.source("cluster.routes", cf);
        break;
      }
      case "tls":
        parseTls(r, cf, "route");
        // Routes would run in clear text where the operator asked for TLS.
        r.markUnsupported(cf, true);
        break;
      case "cluster_advertise":
      case "advertise":
        c.advertise = r.string(cf);
        break;
      case "no_advertise":
        c.noAdvertise = r.bool(cf);
        break;
      case "connect_retries":
        c.connectRetries = r.int(cf);
        r.source("cluster.connectRetries", cf);
        break;
      case "permissions":
        c.permissions = routePermissions(parsePermissions(r, cf, "cluster"));
        permissionsFromBlock = true;
        break;
      default:
        r.unknown(cf);
    }
  }
}

// nats-server reads route permissions with the user-permission parser: publish is what remote
// servers may import, subscribe what they may export.
function routePermissions(p: ReturnType<typeof parsePermissions>): ClusterOptions["permissions"] {
  const out: NonNullable<ClusterOptions["permissions"]> = {};
  if (p.publish) out.import = p.publish;
  if (p.subscribe) out.export = p.subscribe;
  return out;
}

// ---- websocket ----

export type WebsocketOptions = NonNullable<ServerOptions["websocket"]>;

export interface WebsocketExtras {
  // Whether a tls block was given; nats-server requires one unless no_tls is set.
  hasTls: boolean;
  field?: Field;
}

export function parseWebsocket(r: Reader, opts: ServerOptions, f: Field, extras: WebsocketExtras): void {
  const ws: WebsocketOptions = (opts.websocket ??= {
    host: "",
    port: 0,
    noTls: false,
    compression: false,
    sameOrigin: false,
    allowedOrigins: [],
    handshakeTimeoutMs: DEFAULT_WS_HANDSHAKE_TIMEOUT_MS,
  });
  extras.field = f;
  r.source("websocket", f);
  for (const wf of r.fields(f)) {
    switch (lower(wf)) {
      case "listen": {
        const hp = readListen(r, wf);
        if (hp.host !== undefined) ws.host = hp.host;
        ws.port = hp.port;
        r.source("websocket.port", wf);
        break;
      }
      case "port":
        ws.port = r.int(wf);
        r.source("websocket.port", wf);
        break;
      case "host":
      case "net":
        ws.host = r.string(wf);
        break;
      case "advertise":
        ws.advertise = r.string(wf);
        break;
      case "no_tls":
        ws.noTls = r.bool(wf);
        break;
      case "tls":
        parseTls(r, wf, "client");
        extras.hasTls = true;
        r.markUnsupported(wf, true);
        break;
      case "same_origin":
        ws.sameOrigin = r.bool(wf);
        break;
      case "allowed_origins":
      case "allowed_origin":
      case "allow_origins":
      case "allow_origin":
      case "origins":
      case "origin":
        ws.allowedOrigins = r.strings(wf);
        for (const o of ws.allowedOrigins) {
          const problem = urlProblem(o);
          if (problem) r.fail(wf, `unable to parse allowed origin ${JSON.stringify(o)}: ${problem}`);
        }
        break;
      case "handshake_timeout":
        // nats-server reads a bare number as seconds here without a deprecation warning.
        ws.handshakeTimeoutMs = wf.node.kind === "integer" ? wf.node.value * 1000 : r.durationMs(wf, { secondsAllowed: false });
        r.source("websocket.handshakeTimeoutMs", wf);
        break;
      case "compress":
      case "compression":
        ws.compression = r.bool(wf);
        break;
      case "authorization":
      case "authentication":
        for (const af of r.fields(wf)) {
          switch (lower(af)) {
            case "user":
            case "username":
            case "pass":
            case "password":
            case "token":
              r.string(af);
              break;
            case "timeout":
              readAuthTimeout(r, af);
              break;
            default:
              r.unknown(af);
          }
        }
        // Websocket clients would get in without the credentials this block demands.
        r.markUnsupported(wf, true);
        break;
      case "jwt_cookie":
        r.string(wf);
        r.markUnsupported(wf, true);
        break;
      case "no_auth_user":
        r.string(wf);
        r.markUnsupported(wf, false);
        break;
      default:
        r.unknown(wf);
    }
  }
}

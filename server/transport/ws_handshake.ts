// The checks nats-server makes on a WebSocket upgrade request (websocket.go wsUpgrade,
// checkOrigin), as pure functions over the request's headers so they can be tested alone.
import { isIP } from "node:net";

export interface UpgradeHeaders {
  method: string;
  host: string;
  upgrade: string;
  connection: string;
  key: string;
  version: string;
  origin: string;
}

export interface HandshakeError {
  status: 400 | 403 | 405;
  /** What nats-server logs after "websocket handshake error: ". */
  reason: string;
}

export const STATUS_TEXT: Record<HandshakeError["status"], string> = {
  400: "400 Bad Request",
  403: "403 Forbidden",
  405: "405 Method Not Allowed",
};

/** True if a comma-separated header value has the token (case-insensitive), as wsHeaderContains. */
export function headerContains(value: string, token: string): boolean {
  const want = token.toLowerCase();
  return value.split(",").some((t) => t.trim().toLowerCase() === want);
}

/** Whether the permessage-deflate extension is offered (nats-server checks nothing more). */
export function offersDeflate(extensions: string): boolean {
  for (const ext of extensions.split(",")) {
    for (const p of ext.split(";")) if (p.trim().toLowerCase() === "permessage-deflate") return true;
  }
  return false;
}

interface HostPort {
  host: string;
  port: string;
}

/** host[:port] with the scheme's default port, lower-cased host (wsGetHostAndPort). */
function hostAndPort(tls: boolean, hostport: string): HostPort | null {
  let host = hostport;
  let port = "";
  if (hostport.startsWith("[")) {
    const end = hostport.indexOf("]");
    if (end < 0) return null;
    host = hostport.slice(1, end);
    const rest = hostport.slice(end + 1);
    if (rest.startsWith(":")) port = rest.slice(1);
    else if (rest !== "") return null;
  } else {
    const i = hostport.lastIndexOf(":");
    if (i >= 0) {
      if (hostport.indexOf(":") !== i) return null; // bare IPv6 without brackets: Go refuses it
      host = hostport.slice(0, i);
      port = hostport.slice(i + 1);
    }
  }
  if (port === "") port = tls ? "443" : "80";
  return { host: host.toLowerCase(), port };
}

export interface OriginPolicy {
  sameOrigin: boolean;
  /** Allowed origins by host: scheme and port must match too. */
  allowed: Map<string, { scheme: string; port: string }>;
}

export function originPolicy(sameOrigin: boolean, allowedOrigins: string[]): OriginPolicy {
  const allowed = new Map<string, { scheme: string; port: string }>();
  for (const ao of allowedOrigins) {
    let u: URL;
    try {
      u = new URL(ao);
    } catch {
      continue; // the config loader already refused unparsable origins
    }
    const scheme = u.protocol.replace(/:$/, "");
    const hp = hostAndPort(scheme === "https", u.host);
    if (hp) allowed.set(hp.host, { scheme, port: hp.port });
  }
  return { sameOrigin, allowed };
}

/** null if the origin is acceptable, else why not (checkOrigin). A missing Origin is accepted. */
export function checkOrigin(p: OriginPolicy, origin: string, requestHost: string): string | null {
  if (!p.sameOrigin && p.allowed.size === 0) return null;
  if (origin === "") return null;
  let u: URL;
  try {
    u = new URL(origin);
  } catch {
    return `parse "${origin}": invalid URI for request`;
  }
  const scheme = u.protocol.replace(/:$/, "");
  const o = hostAndPort(scheme === "https", u.host);
  if (o === null) return `invalid origin host ${u.host}`;
  if (p.sameOrigin) {
    // The listener is plain ws (TLS is not implemented), so the request's default port is 80.
    const r = hostAndPort(false, requestHost);
    if (r === null) return `invalid host ${requestHost}`;
    if (o.host !== r.host || o.port !== r.port) return "not same origin";
  }
  if (p.allowed.size > 0) {
    const ao = p.allowed.get(o.host);
    if (!ao || scheme !== ao.scheme || o.port !== ao.port) return "not in the allowed list";
  }
  return null;
}

/** The first failed check of RFC 6455 4.2.1 in nats-server's order, or null. */
export function checkUpgrade(h: UpgradeHeaders): HandshakeError | null {
  if (h.method.toUpperCase() !== "GET") return { status: 405, reason: "request method must be GET" };
  if (h.host === "") return { status: 400, reason: "'Host' missing in request" };
  if (!headerContains(h.upgrade, "websocket")) return { status: 400, reason: "invalid value for header 'Upgrade'" };
  if (!headerContains(h.connection, "Upgrade")) return { status: 400, reason: "invalid value for header 'Connection'" };
  if (h.key === "") return { status: 400, reason: "key missing" };
  if (!headerContains(h.version, "13")) return { status: 400, reason: "invalid version" };
  return null;
}

/** X-Forwarded-For's first address, when it is an IP (nats-server reports it as the client IP). */
export function forwardedFor(xff: string): string | null {
  if (xff === "") return null;
  const first = xff.split(",")[0]!.trim();
  return isIP(first) ? first : null;
}

/** uWS's text address to Go's rendering: IPv4-mapped IPv6 as plain IPv4, IPv6 compressed. */
export function normalizeWsAddress(a: string): string {
  if (a.startsWith("::ffff:")) return a.slice(7);
  const mapped = /^0000:0000:0000:0000:0000:ffff:([0-9a-f]{2})([0-9a-f]{2}):([0-9a-f]{2})([0-9a-f]{2})$/i.exec(a);
  if (mapped) return mapped.slice(1).map((h) => parseInt(h, 16)).join(".");
  if (/^[0-9a-f]{4}(:[0-9a-f]{4}){7}$/i.test(a)) return compressIPv6(a);
  return a;
}

function compressIPv6(a: string): string {
  const groups = a.split(":").map((g) => parseInt(g, 16).toString(16));
  // The longest run of two or more zero groups becomes "::".
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== "0") {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === "0") j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return groups.join(":");
  return `${groups.slice(0, best).join(":")}::${groups.slice(best + bestLen).join(":")}`;
}

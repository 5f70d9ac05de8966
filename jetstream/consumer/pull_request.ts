// The body of a pull request ($JS.API.CONSUMER.MSG.NEXT and +NXT acks): empty (one message), a
// bare number (a batch), or JSON {batch, expires, no_wait, max_bytes, idle_heartbeat}. Errors
// carry the text nats-server (Go's encoding/json) puts after "400 Bad Request - ".

export interface PullRequest {
  batch: number;
  /** Nanoseconds, relative; 0 = none. */
  expires: number;
  maxBytes: number;
  noWait: boolean;
  /** Nanoseconds; 0 = none. */
  heartbeat: number;
}

const FIELDS: Record<string, { go: string; type: "int" | "int64" | "bool" }> = {
  expires: { go: "expires", type: "int64" },
  batch: { go: "batch", type: "int" },
  max_bytes: { go: "max_bytes", type: "int" },
  no_wait: { go: "no_wait", type: "bool" },
  idle_heartbeat: { go: "idle_heartbeat", type: "int64" },
};

/** nextReqFromMsg. Returns the request or the error text. */
export function parsePullRequest(body: Buffer): PullRequest | string {
  const text = body.toString("utf8").trim();
  const req: PullRequest = { batch: 1, expires: 0, maxBytes: 0, noWait: false, heartbeat: 0 };
  if (text.length === 0) return req;
  if (text[0] !== "{") {
    // A bare count; anything unparsable is a request for one message.
    if (/^[+-]?\d+$/.test(text)) req.batch = Number(text);
    return req;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return goJsonError(text, e as Error);
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return "json: cannot unmarshal value into Go value of type server.JSApiConsumerGetNextRequest";
  const o = raw as Record<string, unknown>;
  req.batch = 0;
  for (const [k, v] of Object.entries(o)) {
    const f = FIELDS[k];
    if (f === undefined || v === null) continue;
    if (f.type === "bool") {
      if (typeof v !== "boolean") return typeError(v, f.go, "bool");
      req.noWait = v;
      continue;
    }
    if (typeof v !== "number" || !Number.isInteger(v)) {
      return typeError(v, f.go, f.type === "int" ? "int" : "time.Duration");
    }
    if (k === "batch") req.batch = v;
    else if (k === "max_bytes") req.maxBytes = v;
    else if (k === "expires") req.expires = v;
    else req.heartbeat = v;
  }
  if (req.heartbeat > 0 && req.heartbeat * 2 > req.expires) return "heartbeat value too large";
  return req;
}

function typeError(v: unknown, field: string, goType: string): string {
  const kind = typeof v === "number" ? `number ${String(v)}` : typeof v === "string" ? "string" : typeof v === "boolean" ? "bool" : Array.isArray(v) ? "array" : "object";
  return `json: cannot unmarshal ${kind} into Go struct field JSApiConsumerGetNextRequest.${field} of type ${goType}`;
}

/** Go's encoding/json syntax error texts, as near as JSON.parse lets us tell. */
function goJsonError(text: string, e: Error): string {
  const msg = e.message;
  if (/end of JSON input|Unterminated/i.test(msg)) return "unexpected end of JSON input";
  const m = /position (\d+)/.exec(msg);
  const at = m ? Number(m[1]) : -1;
  const c = at >= 0 && at < text.length ? text[at]! : /token '?(.)/.exec(msg)?.[1];
  if (c === undefined) return "unexpected end of JSON input";
  return `invalid character ${JSON.stringify(c).replace(/^"|"$/g, "'")} looking for beginning of value`;
}

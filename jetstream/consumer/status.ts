// The status frames consumers send (header-only messages); clients compare the texts literally.

const fixed = (s: string) => Buffer.from(`NATS/1.0 ${s}\r\n\r\n`, "latin1");

export const NO_MESSAGES = fixed("404 No Messages");
export const CONSUMER_DELETED = fixed("409 Consumer Deleted");
export const EXCEEDED_MAX_WAITING = fixed("409 Exceeded MaxWaiting");
export const REQUESTS_PENDING = fixed("408 Requests Pending");
export const PUSH_BASED = fixed("409 Consumer is push based");
export const FLOW_CONTROL_REQUEST = fixed("100 FlowControl Request");

export const EMPTY = Buffer.alloc(0);

/** nats-server's internal messages carry an empty reply ("MSG <subject> <sid>  <size>"). */
export const NO_REPLY = "";

export function simpleStatus(code: number, description: string): Buffer {
  return Buffer.from(`NATS/1.0 ${code} ${description}\r\n\r\n`, "latin1");
}

/** A status carrying what the pull request still wanted (Nats-Pending-Messages/-Bytes). */
export function pendingStatus(code: number, description: string, msgs: number, bytes: number): Buffer {
  return Buffer.from(`NATS/1.0 ${code} ${description}\r\nNats-Pending-Messages: ${msgs}\r\nNats-Pending-Bytes: ${bytes}\r\n\r\n`, "latin1");
}

/** 100 Idle Heartbeat with the last delivered sequences, and the flow control subject if stalled. */
export function idleHeartbeat(lastConsumer: number, lastStream: number, stalledOn: string): Buffer {
  const stalled = stalledOn === "" ? "" : `Nats-Consumer-Stalled: ${stalledOn}\r\n`;
  return Buffer.from(`NATS/1.0 100 Idle Heartbeat\r\nNats-Last-Consumer: ${lastConsumer}\r\nNats-Last-Stream: ${lastStream}\r\n${stalled}\r\n`, "latin1");
}

const HDR_LINE = Buffer.from("NATS/1.0\r\n", "latin1");

/** headers_only: the stored headers plus Nats-Msg-Size, for an empty payload. */
export function headersOnly(hdr: Buffer | null, size: number): Buffer {
  const extra = Buffer.from(`Nats-Msg-Size: ${size}\r\n\r\n`, "latin1");
  if (hdr === null || hdr.length < 4) return Buffer.concat([HDR_LINE, extra]);
  return Buffer.concat([hdr.subarray(0, hdr.length - 2), extra]);
}

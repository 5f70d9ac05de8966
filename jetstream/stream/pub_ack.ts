// PubAck bodies, byte for byte as nats-server 2.9 writes them (including the space after the
// stream name that its hand-built JSON has).
import type { ApiError } from "../api/errors.js";

export function pubAckJson(stream: string, seq: number, duplicate: boolean, domain?: string): string {
  return pubAckPrefix(stream, domain) + pubAckRest(seq, duplicate);
}

/** The part of a stream's PubAcks before the sequence (the same for every ack of that stream). */
export function pubAckPrefix(stream: string, domain?: string): string {
  const d = domain ? `"domain":${JSON.stringify(domain)},` : "";
  return `{"stream":${JSON.stringify(stream)},${d} "seq":`;
}

export function pubAckRest(seq: number, duplicate: boolean): string {
  return duplicate ? `${seq},"duplicate": true}` : `${seq}}`;
}

export function pubAckErrorJson(stream: string, err: ApiError): string {
  return `{"error":${JSON.stringify(err.toJSON())},"stream":${JSON.stringify(stream)},"seq":0}`;
}

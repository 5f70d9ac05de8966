// Message sizes exactly as nats-server accounts them (state.bytes, max_bytes, account usage).
// They describe nats-server's on-disk/in-memory record layouts, not ours, so that limits and
// reported bytes agree with the reference server for the same messages.

/**
 * filestore.go fileStoreMsgSize: record length(4) + seq(8) + ts(8) + subject length(2) + subject
 * + [header length(4) + header] + payload + hash(8). Header part only when the header is non-empty.
 */
export function fileStoreMsgSize(subjectBytes: number, hdrLen: number, dataLen: number): number {
  return hdrLen === 0 ? 30 + subjectBytes + dataLen : 34 + subjectBytes + hdrLen + dataLen;
}

/** memstore.go memStoreMsgSize: subject + header + payload + 16 (seq and timestamp). */
export function memStoreMsgSize(subjectBytes: number, hdrLen: number, dataLen: number): number {
  return subjectBytes + hdrLen + dataLen + 16;
}

/** UTF-8 length, which is what Go's len(subject) counts. */
export function subjectBytes(subject: string): number {
  // ASCII subjects are the norm; skip the encoder for them.
  for (let i = 0; i < subject.length; i++) {
    if (subject.charCodeAt(i) > 0x7f) return Buffer.byteLength(subject, "utf8");
  }
  return subject.length;
}

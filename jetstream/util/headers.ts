// NATS header blocks ("NATS/1.0[ code desc]\r\nKey: value\r\n...\r\n\r\n"): reading the few
// headers JetStream acts on, and building blocks for status and metadata messages. Stored
// headers are always kept verbatim; these helpers only read or append.

export const HDR_LINE = "NATS/1.0";

export interface HeaderMap {
  get(key: string): string | undefined;
  has(key: string): boolean;
}

/**
 * Parses a header block into name -> first value. Names are matched exactly as written, which is
 * how nats-server looks up its JetStream headers.
 */
export function parseHeaders(buf: Buffer, start = 0, end = buf.length): Map<string, string> {
  const out = new Map<string, string>();
  const text = buf.toString("latin1", start, end);
  let pos = text.indexOf("\r\n");
  if (pos < 0) return out;
  pos += 2;
  while (pos < text.length) {
    const eol = text.indexOf("\r\n", pos);
    const line = eol < 0 ? text.slice(pos) : text.slice(pos, eol);
    if (line.length === 0) break;
    const colon = line.indexOf(":");
    if (colon > 0) {
      const key = line.slice(0, colon);
      if (!out.has(key)) out.set(key, line.slice(colon + 1).trim());
    }
    if (eol < 0) break;
    pos = eol + 2;
  }
  return out;
}

/** Builds a header block from a status line and pairs. */
export function buildHeaders(pairs: [string, string][], status?: string): Buffer {
  let s = status ? `${HDR_LINE} ${status}\r\n` : `${HDR_LINE}\r\n`;
  for (const [k, v] of pairs) s += `${k}: ${v}\r\n`;
  return Buffer.from(s + "\r\n", "latin1");
}

/**
 * Appends pairs to an existing header block (or starts one), keeping the stored headers first:
 * DIRECT.GET and republish add their metadata after the original headers.
 */
export function appendHeaders(existing: Buffer | null, pairs: [string, string][]): Buffer {
  if (existing === null || existing.length < 4) return buildHeaders(pairs);
  // Drop the final empty line, add ours, end the block again.
  let extra = "";
  for (const [k, v] of pairs) extra += `${k}: ${v}\r\n`;
  return Buffer.concat([existing.subarray(0, existing.length - 2), Buffer.from(extra + "\r\n", "latin1")]);
}

/**
 * The block without the headers `drop` names (status line and the other headers kept verbatim),
 * or null when nothing but a plain status line would be left.
 */
export function dropHeaders(block: Buffer, drop: (name: string) => boolean): Buffer | null {
  const text = block.toString("latin1");
  const first = text.indexOf("\r\n");
  if (first < 0) return null;
  let out = text.slice(0, first + 2);
  let kept = 0;
  let pos = first + 2;
  while (pos < text.length) {
    const eol = text.indexOf("\r\n", pos);
    const line = eol < 0 ? text.slice(pos) : text.slice(pos, eol);
    if (line.length === 0) break;
    const colon = line.indexOf(":");
    if (colon <= 0 || !drop(line.slice(0, colon))) {
      out += line + "\r\n";
      kept++;
    }
    if (eol < 0) break;
    pos = eol + 2;
  }
  if (kept === 0 && text.slice(0, first) === HDR_LINE) return null;
  return Buffer.from(out + "\r\n", "latin1");
}

// Subject transforms for stream subject_transform and republish: a source filter with '*'/'>'
// and a destination whose tokens are literals, wildcard references ($N or {{wildcard(N)}}), or a
// final '>' that carries over what the source's '>' matched.

import { isValidSubject } from "../../server/subjects/subject.js";

export interface Transform {
  readonly src: string;
  readonly dest: string;
  /** The transformed subject, or null when the subject does not match the source. */
  apply(subject: string): string | null;
}

type Part = { lit: string } | { wc: number } | { rest: true };

export function parseTransform(src: string, dest: string): Transform | null {
  if (!isValidSubject(src) || dest.length === 0) return null;
  const st = src.split(".");
  const wildcards: number[] = [];
  st.forEach((t, i) => {
    if (t === "*") wildcards.push(i);
  });
  const srcFwc = st[st.length - 1] === ">";
  const parts: Part[] = [];
  const dt = dest.split(".");
  for (let i = 0; i < dt.length; i++) {
    const t = dt[i]!;
    if (t.length === 0) return null;
    let m = /^\$(\d+)$/.exec(t) ?? /^\{\{\s*wildcard\s*\(\s*(\d+)\s*\)\s*\}\}$/i.exec(t);
    if (m) {
      const n = Number(m[1]);
      if (n < 1 || n > wildcards.length) return null;
      parts.push({ wc: wildcards[n - 1]! });
      continue;
    }
    if (t.startsWith("{{")) return null; // other mapping functions are not supported
    if (t === ">") {
      if (i !== dt.length - 1 || !srcFwc) return null;
      parts.push({ rest: true });
      continue;
    }
    if (t === "*") return null;
    parts.push({ lit: t });
  }
  return {
    src,
    dest,
    apply(subject: string): string | null {
      const tokens = subject.split(".");
      if (srcFwc ? tokens.length < st.length : tokens.length !== st.length) return null;
      for (let i = 0; i < st.length; i++) {
        const f = st[i]!;
        if (f === ">") break;
        if (f !== "*" && f !== tokens[i]) return null;
      }
      const out: string[] = [];
      for (const p of parts) {
        if ("lit" in p) out.push(p.lit);
        else if ("wc" in p) out.push(tokens[p.wc]!);
        else out.push(...tokens.slice(st.length - 1));
      }
      return out.join(".");
    },
  };
}

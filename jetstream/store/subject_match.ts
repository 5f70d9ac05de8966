// Subject filter matching for stored (literal) subjects: `*` matches exactly one token, `>` one
// or more trailing tokens. Wildcards count only as whole tokens ("a*" is a literal token), as in
// nats-server. Kept local to the store until the server's subject module is shared.

const DOT = 0x2e;
const STAR = 0x2a;
const GT = 0x3e;

/** "" and ">" select every message. */
export function isAllFilter(filter: string): boolean {
  return filter === "" || filter === ">";
}

export function hasWildcard(filter: string): boolean {
  const n = filter.length;
  for (let i = 0; i < n; i++) {
    const c = filter.charCodeAt(i);
    if ((c === STAR || c === GT) && (i === 0 || filter.charCodeAt(i - 1) === DOT) && (i + 1 === n || filter.charCodeAt(i + 1) === DOT)) {
      return true;
    }
  }
  return false;
}

/** Whether the literal subject is matched by filter (which may contain wildcards). */
export function subjectMatches(subject: string, filter: string): boolean {
  const sl = subject.length;
  const fl = filter.length;
  let si = 0;
  let fi = 0;
  for (;;) {
    let fe = filter.indexOf(".", fi);
    if (fe < 0) fe = fl;
    let se = subject.indexOf(".", si);
    if (se < 0) se = sl;
    const ftl = fe - fi;
    if (ftl === 1 && filter.charCodeAt(fi) === GT && fe === fl) return true;
    if (!(ftl === 1 && filter.charCodeAt(fi) === STAR)) {
      if (ftl !== se - si) return false;
      for (let k = 0; k < ftl; k++) {
        if (filter.charCodeAt(fi + k) !== subject.charCodeAt(si + k)) return false;
      }
    }
    if (fe === fl) return se === sl;
    if (se === sl) return false;
    fi = fe + 1;
    si = se + 1;
  }
}

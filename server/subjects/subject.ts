// Subject rules as nats-server applies them. A subject is a '.'-separated list of tokens; in
// subscriptions the token "*" matches one token and a final ">" matches one or more.
// Publishing does not validate beyond what the router needs (pedantic clients excepted), which is
// why publishes may carry wildcard characters: real clients rely on that for consumer-create subjects.

export const PWC = "*";
export const FWC = ">";

function hasWhitespace(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13 || c === 12) return true;
  }
  return false;
}

/** A subscription subject: non-empty tokens, no whitespace, '>' only as the last token. */
export function isValidSubject(subject: string): boolean {
  if (subject.length === 0) return false;
  if (hasWhitespace(subject)) return false;
  let start = 0;
  let sawFwc = false;
  for (let i = 0; i <= subject.length; i++) {
    if (i === subject.length || subject.charCodeAt(i) === 46 /* . */) {
      if (i === start || sawFwc) return false;
      if (i - start === 1 && subject.charCodeAt(start) === 62 /* > */) sawFwc = true;
      start = i + 1;
    }
  }
  return true;
}

/** A valid subject with no wildcard tokens (what pedantic clients may publish to). */
export function isValidLiteralSubject(subject: string): boolean {
  if (subject.length === 0) return false;
  let start = 0;
  for (let i = 0; i <= subject.length; i++) {
    if (i === subject.length || subject.charCodeAt(i) === 46) {
      const len = i - start;
      if (len === 0) return false;
      if (len === 1) {
        const c = subject.charCodeAt(start);
        if (c === 42 || c === 62) return false;
      }
      start = i + 1;
    }
  }
  return true;
}

/** True when some token is exactly "*" or ">". */
export function subjectHasWildcard(subject: string): boolean {
  const n = subject.length;
  for (let i = 0; i < n; i++) {
    const c = subject.charCodeAt(i);
    if ((c === 42 || c === 62) && (i === 0 || subject.charCodeAt(i - 1) === 46) && (i + 1 === n || subject.charCodeAt(i + 1) === 46)) {
      return true;
    }
  }
  return false;
}

/** Does the literal subject match the (possibly wildcard) filter? */
export function subjectMatchesFilter(subject: string, filter: string): boolean {
  if (filter === FWC) return subject.length > 0;
  if (filter === subject) return true;
  const st = subject.split(".");
  const ft = filter.split(".");
  return tokensMatch(st, ft);
}

export function tokensMatch(st: string[], ft: string[]): boolean {
  for (let i = 0; i < ft.length; i++) {
    const f = ft[i]!;
    if (f === FWC && i === ft.length - 1) return st.length > i;
    if (i >= st.length) return false;
    if (f !== PWC && f !== st[i]) return false;
  }
  return st.length === ft.length;
}

/** Can some literal subject match both filters? (nats-server SubjectsCollide) */
export function subjectsCollide(a: string, b: string): boolean {
  if (a === b) return true;
  const at = a.split(".");
  const bt = b.split(".");
  const aFwc = at[at.length - 1] === FWC;
  const bFwc = bt[bt.length - 1] === FWC;
  if (!aFwc && !bFwc && at.length !== bt.length) return false;
  if (aFwc && !bFwc && bt.length < at.length) return false;
  if (bFwc && !aFwc && at.length < bt.length) return false;
  const n = Math.min(at.length, bt.length);
  for (let i = 0; i < n; i++) {
    const x = at[i]!;
    const y = bt[i]!;
    if (x === FWC || y === FWC) return true;
    if (x !== y && x !== PWC && y !== PWC) return false;
  }
  return true;
}

/** Is every subject matched by `subset` also matched by `superset`? */
export function isSubsetMatch(subset: string, superset: string): boolean {
  const st = subset.split(".");
  const pt = superset.split(".");
  for (let i = 0; i < pt.length; i++) {
    const p = pt[i]!;
    if (p === FWC && i === pt.length - 1) return st.length > i;
    if (i >= st.length) return false;
    const s = st[i]!;
    if (p === PWC) {
      if (s === FWC) return false;
      continue;
    }
    if (s !== p) return false;
  }
  return st.length === pt.length;
}

// The subject index: a trie of tokens with '*' and '>' branches, and a cache of match results per
// literal subject. Results are immutable snapshots, so a caller may hold one while the index changes.
// The cache is corrected on every insert and remove (only the entries the change can affect are
// dropped), which keeps request/reply workloads with constant subscribe churn on the fast path.

export interface SublistEntry {
  readonly subject: string;
  readonly queue: string | null;
}

export interface SublistResult<S> {
  readonly psubs: readonly S[];
  /** One array per queue group, each with that group's members. */
  readonly qsubs: readonly (readonly S[])[];
}

class Node<S> {
  next: Level<S> | null = null;
  psubs: Set<S> | null = null;
  qsubs: Map<string, Set<S>> | null = null;
  isEmpty(): boolean {
    return (this.psubs === null || this.psubs.size === 0) && (this.qsubs === null || this.qsubs.size === 0) && (this.next === null || this.next.isEmpty());
  }
}

class Level<S> {
  nodes = new Map<string, Node<S>>();
  pwc: Node<S> | null = null;
  fwc: Node<S> | null = null;
  isEmpty(): boolean {
    return this.nodes.size === 0 && this.pwc === null && this.fwc === null;
  }
}

const EMPTY: SublistResult<never> = Object.freeze({ psubs: Object.freeze([]), qsubs: Object.freeze([]) });

export const SUBLIST_CACHE_MAX = 1024;
/** Prefixes whose subjects share one match result (see Sublist.sharedPrefixes). */
const SHARED_SLOTS = 8;

export class InvalidSubjectError extends Error {
  constructor(subject: string) {
    super(`invalid subject "${subject}"`);
  }
}

export class Sublist<S extends SublistEntry> {
  private root = new Level<S>();
  /**
   * The match cache in two generations: new results go into `cache`; when it is full it becomes
   * `older` and a new one starts, and a hit in `older` moves back. Hot subjects stay cached, and
   * a stream of unique subjects (reply inboxes) costs O(1) per match; deleting the oldest entries
   * of one large Map one by one cost more than the trie walk itself.
   */
  private cache = new Map<string, SublistResult<S>>();
  private older = new Map<string, SublistResult<S>>();
  /**
   * Results shared by every subject that starts with a prefix, for subjects unique per message:
   * replies to `_INBOX.<id>.<n>` under `_INBOX.<id>.*` (PubAcks, request replies) and JetStream
   * acks `$JS.ACK.<stream>.<consumer>.<n>...` under `$JS.ACK.>`. A match depends only on the
   * tokens the walk looked up among literal branches or met a `*` at; past them only `>` can
   * match. So the prefix through those tokens keys the result for every longer subject
   * (`oneToken` false); when the walk reached the last token but found only wildcards there, the
   * prefix before it keys it for subjects of exactly one token more (`oneToken` true). Each costs
   * a trie walk and a cache entry never hit again otherwise. A prefix gets a slot once two misses
   * in a row had it, so prefixes that are themselves unique do not evict the rest. Emptied by
   * every insert and remove.
   */
  private sharedPrefixes: string[] = [];
  private sharedOneToken: boolean[] = [];
  private sharedResults: SublistResult<S>[] = [];
  private sharedNext = 0;
  /** A bit per slotted prefix's first character (code & 31); stale bits only cost a loop. */
  private sharedFirst = 0;
  private candidate = "";
  private candidateOneToken = false;
  private cacheEnabled: boolean;
  private count = 0;
  /** Bumped on every change; external caches keyed on match results compare against it. */
  genid = 0;
  stats = { matches: 0, cacheHits: 0, inserts: 0, removes: 0 };

  private readonly generationMax: number;

  /** cacheMax: results kept across both generations (small values exercise the turnover in tests). */
  constructor(opts: { cache?: boolean; cacheMax?: number } = {}) {
    this.cacheEnabled = opts.cache !== false;
    this.generationMax = Math.max(1, Math.floor((opts.cacheMax ?? SUBLIST_CACHE_MAX) / 2));
  }

  get size(): number {
    return this.count;
  }

  get cacheSize(): number {
    return this.cache.size + this.older.size + this.sharedPrefixes.length;
  }

  insert(sub: S): void {
    const tokens = sub.subject.split(".");
    let level = this.root;
    let node: Node<S> | null = null;
    let sawFwc = false;
    for (const t of tokens) {
      if (t.length === 0 || sawFwc) throw new InvalidSubjectError(sub.subject);
      if (t === "*") {
        node = level.pwc ??= new Node<S>();
      } else if (t === ">") {
        node = level.fwc ??= new Node<S>();
        sawFwc = true;
      } else {
        node = level.nodes.get(t) ?? null;
        if (node === null) {
          node = new Node<S>();
          level.nodes.set(t, node);
        }
      }
      level = node.next ??= new Level<S>();
    }
    const n = node!;
    if (sub.queue === null) {
      (n.psubs ??= new Set()).add(sub);
    } else {
      const qs = (n.qsubs ??= new Map());
      let set = qs.get(sub.queue);
      if (!set) {
        set = new Set();
        qs.set(sub.queue, set);
      }
      set.add(sub);
    }
    this.count++;
    this.stats.inserts++;
    this.genid++;
    this.invalidate(sub.subject, tokens);
  }

  /** Returns false when the entry was not in the index. */
  remove(sub: S): boolean {
    const tokens = sub.subject.split(".");
    const path: { level: Level<S>; node: Node<S>; token: string }[] = [];
    let level: Level<S> | null = this.root;
    let node: Node<S> | null = null;
    for (const t of tokens) {
      if (level === null) return false;
      if (t === "*") node = level.pwc;
      else if (t === ">") node = level.fwc;
      else node = level.nodes.get(t) ?? null;
      if (node === null) return false;
      path.push({ level, node, token: t });
      level = node.next;
    }
    if (node === null) return false;
    let removed = false;
    if (sub.queue === null) {
      removed = node.psubs?.delete(sub) ?? false;
    } else {
      const set = node.qsubs?.get(sub.queue);
      if (set) {
        removed = set.delete(sub);
        if (set.size === 0) node.qsubs!.delete(sub.queue);
      }
    }
    if (!removed) return false;
    // Prune empty branches so the trie does not grow with churn of unique subjects (inboxes).
    for (let i = path.length - 1; i >= 0; i--) {
      const p = path[i]!;
      if (p.node.next !== null && p.node.next.isEmpty()) p.node.next = null;
      if (!p.node.isEmpty()) break;
      if (p.token === "*") p.level.pwc = null;
      else if (p.token === ">") p.level.fwc = null;
      else p.level.nodes.delete(p.token);
    }
    this.count--;
    this.stats.removes++;
    this.genid++;
    this.invalidate(sub.subject, tokens);
    return true;
  }

  match(subject: string): SublistResult<S> {
    this.stats.matches++;
    if (this.cacheEnabled) {
      // Shared prefixes first: they answer the unique subjects without hashing them. Their first
      // characters' bits let every other subject skip the loop.
      const shared = (this.sharedFirst & (1 << (subject.charCodeAt(0) & 31))) !== 0 ? this.sharedMatch(subject) : null;
      if (shared !== null) {
        this.stats.cacheHits++;
        return shared;
      }
      const hit = this.cache.get(subject);
      if (hit !== undefined) {
        this.stats.cacheHits++;
        return hit;
      }
      const old = this.older.size > 0 ? this.older.get(subject) : undefined;
      if (old !== undefined) {
        this.stats.cacheHits++;
        this.older.delete(subject);
        this.remember(subject, old);
        return old;
      }
    }
    // An empty token matches nothing.
    if (subject.length === 0 || subject.charCodeAt(0) === DOT || subject.charCodeAt(subject.length - 1) === DOT || subject.includes("..")) return EMPTY;
    const acc: Acc<S> = { psubs: [], qmap: null, keyEnd: 0, reachedLast: false, lastTokenMatters: false };
    collect(this.root, subject, 0, acc);
    const { psubs, qmap } = acc;
    let result: SublistResult<S>;
    if (psubs.length === 0 && qmap === null) result = EMPTY;
    else result = { psubs, qsubs: qmap === null ? NO_QSUBS : [...qmap.values()] };
    if (this.cacheEnabled) {
      this.remember(subject, result);
      if (acc.keyEnd > 0 && acc.keyEnd < subject.length) {
        this.sharedMissed(subject.slice(0, acc.keyEnd), false, result);
      } else if (acc.reachedLast && !acc.lastTokenMatters) {
        const dot = subject.lastIndexOf(".");
        if (dot > 0) this.sharedMissed(subject.slice(0, dot), true, result);
      }
    }
    return result;
  }

  /** The result a slotted prefix shares with this subject, or null. */
  private sharedMatch(subject: string): SublistResult<S> | null {
    const ps = this.sharedPrefixes;
    for (let i = 0; i < ps.length; i++) {
      const p = ps[i]!;
      if (subject.length <= p.length + 1 || subject.charCodeAt(p.length) !== DOT || !subject.startsWith(p)) continue;
      // Slotted prefixes come from valid subjects; what follows must be valid too.
      const rest = this.sharedOneToken[i] ? subject.indexOf(".", p.length + 1) < 0 : subject.charCodeAt(subject.length - 1) !== DOT && subject.indexOf("..", p.length) < 0;
      if (rest) return this.sharedResults[i]!;
    }
    return null;
  }

  private sharedMissed(prefix: string, oneToken: boolean, result: SublistResult<S>): void {
    if (prefix !== this.candidate || oneToken !== this.candidateOneToken) {
      this.candidate = prefix;
      this.candidateOneToken = oneToken;
      return;
    }
    this.candidate = "";
    const i = this.sharedNext;
    this.sharedPrefixes[i] = prefix;
    this.sharedOneToken[i] = oneToken;
    this.sharedResults[i] = result;
    this.sharedFirst |= 1 << (prefix.charCodeAt(0) & 31);
    this.sharedNext = (i + 1) % SHARED_SLOTS;
  }

  /** True if anything at all would receive a message on this literal subject. */
  hasInterest(subject: string): boolean {
    const r = this.match(subject);
    return r.psubs.length > 0 || r.qsubs.length > 0;
  }

  /**
   * Fan-out of the cached match results (nats-server's /subsz max_fanout and avg_fanout): a queue
   * group counts once, as it receives each message once.
   */
  cacheFanout(): { max: number; avg: number } {
    let tot = 0;
    let max = 0;
    for (const m of [this.cache.values(), this.older.values(), this.sharedResults]) {
      for (const r of m) {
        const l = r.psubs.length + r.qsubs.length;
        tot += l;
        if (l > max) max = l;
      }
    }
    return { max, avg: tot > 0 ? tot / this.cacheSize : 0 };
  }

  /** Every entry, in no particular order. */
  all(): S[] {
    const out: S[] = [];
    walk(this.root, out);
    return out;
  }

  private invalidate(subject: string, tokens: string[]): void {
    this.sharedPrefixes = [];
    this.sharedOneToken = [];
    this.sharedResults = [];
    this.sharedNext = 0;
    this.sharedFirst = 0;
    this.candidate = "";
    if (this.cacheSize === 0) return;
    let wildcard = false;
    for (const t of tokens) if (t === "*" || t === ">") wildcard = true;
    for (const m of [this.cache, this.older]) {
      if (!wildcard) {
        m.delete(subject);
        continue;
      }
      for (const key of m.keys()) {
        if (literalMatches(key.split("."), tokens)) m.delete(key);
      }
    }
  }

  private remember(subject: string, result: SublistResult<S>): void {
    if (this.cache.size >= this.generationMax) {
      this.older = this.cache;
      this.cache = new Map();
    }
    this.cache.set(subject, result);
  }
}

/** What a match collects; the queue map is made only when a queue group matches. */
interface Acc<S> {
  psubs: S[];
  qmap: Map<string, S[]> | null;
  /** End (in the subject) of the last token looked up among literal branches or met by a `*`. */
  keyEnd: number;
  /** Set when some path got as far as the last token (a walk that ends earlier, under a `>`, does not). */
  reachedLast: boolean;
  /** Set when the last token was looked up among literal branches: the result depends on it. */
  lastTokenMatters: boolean;
}

const NO_QSUBS: readonly (readonly never[])[] = Object.freeze([]);

function addNode<S extends SublistEntry>(node: Node<S>, acc: Acc<S>): void {
  if (node.psubs !== null) for (const s of node.psubs) acc.psubs.push(s);
  if (node.qsubs !== null && node.qsubs.size > 0) {
    const qmap = (acc.qmap ??= new Map());
    for (const [q, set] of node.qsubs) {
      let arr = qmap.get(q);
      if (!arr) {
        arr = [];
        qmap.set(q, arr);
      }
      for (const s of set) arr.push(s);
    }
  }
}

const DOT = 0x2e;

/**
 * Walks the trie for the tokens of subject from `start`, cutting each token only where a level
 * has literal branches to look it up in: a long subject under a `>` subscription (an ack
 * subject, an inbox) costs a few lookups, not a split of the whole subject.
 */
function collect<S extends SublistEntry>(level: Level<S>, subject: string, start: number, acc: Acc<S>): void {
  const dot = subject.indexOf(".", start);
  const last = dot < 0;
  const end = last ? subject.length : dot;
  if (last) acc.reachedLast = true;
  if (level.fwc !== null) addNode(level.fwc, acc);
  if (level.pwc !== null) {
    if (end > acc.keyEnd) acc.keyEnd = end;
    if (last) addNode(level.pwc, acc);
    else if (level.pwc.next !== null) collect(level.pwc.next, subject, dot + 1, acc);
  }
  if (level.nodes.size === 0) return;
  if (end > acc.keyEnd) acc.keyEnd = end;
  if (last) acc.lastTokenMatters = true;
  const n = level.nodes.get(last ? (start === 0 ? subject : subject.slice(start)) : subject.slice(start, dot));
  if (n !== undefined) {
    if (last) addNode(n, acc);
    else if (n.next !== null) collect(n.next, subject, dot + 1, acc);
  }
}

function walk<S extends SublistEntry>(level: Level<S>, out: S[]): void {
  const visit = (n: Node<S>) => {
    if (n.psubs) out.push(...n.psubs);
    if (n.qsubs) for (const set of n.qsubs.values()) out.push(...set);
    if (n.next) walk(n.next, out);
  };
  for (const n of level.nodes.values()) visit(n);
  if (level.pwc) visit(level.pwc);
  if (level.fwc) visit(level.fwc);
}

/** Does a literal subject (as tokens) match a filter (as tokens)? */
function literalMatches(lit: string[], filter: string[]): boolean {
  for (let i = 0; i < filter.length; i++) {
    const f = filter[i]!;
    if (f === ">") return lit.length > i;
    if (i >= lit.length) return false;
    if (f !== "*" && f !== lit[i]) return false;
  }
  return lit.length === filter.length;
}

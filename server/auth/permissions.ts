// Publish/subscribe permissions compiled into subject indexes, with the same matching rules as
// nats-server: a subscription subject is matched against the allow/deny patterns as if it were a
// literal, a queue subscription may be allowed or denied by "subject queue" entries, and deny
// entries inside a wider allowed wildcard subscription are enforced at delivery time.

import { Sublist, type SublistEntry } from "../subjects/sublist.js";
import { isSubsetMatch, subjectHasWildcard, tokensMatch } from "../subjects/subject.js";

export interface SubjectPermission {
  allow?: string[];
  deny?: string[];
}

export interface ResponsePermission {
  maxMsgs: number;
  expiresMs: number;
}

export interface Permissions {
  publish?: SubjectPermission;
  subscribe?: SubjectPermission;
  allowResponses?: ResponsePermission;
}

export const DEFAULT_ALLOW_RESPONSE_MAX_MSGS = 1;
export const DEFAULT_ALLOW_RESPONSE_EXPIRATION_MS = 2 * 60 * 1000;
const MAX_CACHE = 128;

class PermEntry implements SublistEntry {
  constructor(
    readonly subject: string,
    readonly queue: string | null,
  ) {}
}

function compile(list: string[], withQueues: boolean): Sublist<PermEntry> {
  const sl = new Sublist<PermEntry>();
  for (const raw of list) {
    const parts = withQueues ? raw.trim().split(/\s+/) : [raw];
    if (parts.length > 2) throw new Error(`invalid permission subject "${raw}"`);
    sl.insert(new PermEntry(parts[0]!, parts.length === 2 ? parts[1]! : null));
  }
  return sl;
}

function queueMatches(queue: string, qsubs: readonly (readonly PermEntry[])[]): boolean {
  if (qsubs.length === 0) return true;
  const qt = queue.split(".");
  for (const group of qsubs) {
    const q = group[0]!.queue!;
    if (q === queue || tokensMatch(qt, q.split("."))) return true;
  }
  return false;
}

export class CompiledPermissions {
  private readonly pubAllow: Sublist<PermEntry> | null;
  private readonly pubDeny: Sublist<PermEntry> | null;
  private readonly subAllow: Sublist<PermEntry> | null;
  private readonly subDeny: Sublist<PermEntry> | null;
  private readonly denyList: string[];
  readonly responses: ResponsePermission | null;
  private readonly pubCache = new Map<string, boolean>();
  private readonly denyCache = new Map<string, boolean>();

  constructor(p: Permissions) {
    let publish = p.publish;
    let responses: ResponsePermission | null = null;
    if (p.allowResponses) {
      responses = {
        maxMsgs: p.allowResponses.maxMsgs || DEFAULT_ALLOW_RESPONSE_MAX_MSGS,
        expiresMs: p.allowResponses.expiresMs || DEFAULT_ALLOW_RESPONSE_EXPIRATION_MS,
      };
      // Response permissions turn the blanket publish allow off unless one is given explicitly.
      publish = { allow: publish?.allow ?? [], deny: publish?.deny };
    }
    this.responses = responses;
    this.pubAllow = publish?.allow !== undefined ? compile(publish.allow, false) : null;
    this.pubDeny = publish?.deny && publish.deny.length > 0 ? compile(publish.deny, false) : null;
    const sub = p.subscribe;
    this.subAllow = sub?.allow && sub.allow.length > 0 ? compile(sub.allow, true) : null;
    this.subDeny = sub?.deny && sub.deny.length > 0 ? compile(sub.deny, true) : null;
    this.denyList = sub?.deny ? sub.deny.map((d) => d.trim().split(/\s+/)[0]!) : [];
  }

  get restrictsPublish(): boolean {
    return this.pubAllow !== null || this.pubDeny !== null;
  }

  /** The static publish check (response permissions are the client's business). */
  canPublish(subject: string): boolean {
    const hit = this.pubCache.get(subject);
    if (hit !== undefined) return hit;
    let allowed = true;
    if (this.pubAllow !== null) allowed = this.pubAllow.match(subject).psubs.length > 0;
    if (allowed && this.pubDeny !== null) allowed = this.pubDeny.match(subject).psubs.length === 0;
    if (this.pubCache.size >= MAX_CACHE) this.pubCache.clear();
    this.pubCache.set(subject, allowed);
    return allowed;
  }

  canSubscribe(subject: string, queue: string | null): boolean {
    let allowed = true;
    if (this.subAllow !== null) {
      const r = this.subAllow.match(subject);
      allowed = r.psubs.length > 0;
      if (queue !== null && r.qsubs.length > 0) allowed = queueMatches(queue, r.qsubs);
    }
    if (allowed && this.subDeny !== null) {
      const r = this.subDeny.match(subject);
      allowed = r.psubs.length === 0;
      if (queue !== null && r.qsubs.length > 0) allowed = !queueMatches(queue, r.qsubs);
    }
    return allowed;
  }

  /** Whether messages to this (allowed) subscription must be checked against the deny list. */
  needsDeliveryDenyCheck(subject: string): boolean {
    if (this.subDeny === null || !subjectHasWildcard(subject)) return false;
    return this.denyList.some((d) => isSubsetMatch(d, subject));
  }

  /** True if a message on this literal subject must not be delivered to a deny-checked subscription. */
  deliveryDenied(subject: string): boolean {
    const hit = this.denyCache.get(subject);
    if (hit !== undefined) return hit;
    const denied = this.subDeny !== null && this.subDeny.match(subject).psubs.length > 0;
    if (this.denyCache.size >= MAX_CACHE) this.denyCache.clear();
    this.denyCache.set(subject, denied);
    return denied;
  }
}

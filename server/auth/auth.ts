// Client authentication from the server options: a token, a single user/password, or a users list,
// each secret either plain or a bcrypt hash; `no_auth_user` names the identity of clients that send
// no credentials. Hash comparisons run asynchronously so a CONNECT never blocks the event loop.

import bcrypt from "bcryptjs";
import { timingSafeEqual } from "node:crypto";
import type { Permissions } from "./permissions.js";

export interface UserEntry {
  user: string;
  password?: string;
  permissions?: Permissions;
  account?: string;
}

export interface AuthConfig {
  token?: string;
  user?: string;
  password?: string;
  users?: UserEntry[];
  /** Default permissions for users without their own. */
  permissions?: Permissions;
}

export interface ConnectCredentials {
  user?: string;
  pass?: string;
  auth_token?: string;
}

export interface AuthResult {
  user?: string;
  permissions?: Permissions;
}

const BCRYPT = /^\$2[abxy]\$\d{2}\$.*/;

export function isBcrypt(secret: string): boolean {
  return secret.startsWith("$") && BCRYPT.test(secret);
}

function plainEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Compares a client's secret with the configured one; a promise only when a hash must be checked. */
export function compareSecret(configured: string, given: string | undefined): boolean | Promise<boolean> {
  const g = given ?? "";
  if (isBcrypt(configured)) return bcrypt.compare(g, configured).catch(() => false);
  return plainEqual(configured, g);
}

export class Authenticator {
  readonly required: boolean;
  private readonly users: Map<string, UserEntry> | null;

  constructor(
    private readonly cfg: AuthConfig | undefined,
    private readonly noAuthUser: string | undefined,
  ) {
    const c = cfg ?? {};
    this.required = !!(c.token || c.user || (c.users && c.users.length > 0));
    this.users = c.users && c.users.length > 0 ? new Map(c.users.map((u) => [u.user, u])) : null;
  }

  /** Is there a no_auth_user that lets a client in without a CONNECT? */
  get hasNoAuthUser(): boolean {
    return !!(this.noAuthUser && this.users?.has(this.noAuthUser));
  }

  /** The identity of a client that was let in without credentials. */
  noAuthIdentity(): AuthResult | null {
    if (!this.noAuthUser || !this.users) return null;
    const u = this.users.get(this.noAuthUser);
    return u ? { user: u.user, permissions: u.permissions ?? this.cfg?.permissions } : null;
  }

  /** null means "not authorized". */
  authenticate(creds: ConnectCredentials): AuthResult | null | Promise<AuthResult | null> {
    if (!this.required) return {};
    const cfg = this.cfg!;
    if (this.users) {
      const name = creds.user;
      const pass = creds.pass;
      if (!name && !pass && !creds.auth_token && this.noAuthUser) {
        // A client without credentials takes on the no_auth_user identity.
        return this.noAuthIdentity();
      }
      if (!name) return null;
      const u = this.users.get(name);
      if (!u) return null;
      const result: AuthResult = { user: u.user, permissions: u.permissions ?? cfg.permissions };
      return settle(compareSecret(u.password ?? "", pass), result);
    }
    if (cfg.token) return settle(compareSecret(cfg.token, creds.auth_token), {});
    if (cfg.user) {
      if (creds.user !== cfg.user) return null;
      return settle(compareSecret(cfg.password ?? "", creds.pass), { user: cfg.user, permissions: cfg.permissions });
    }
    return null;
  }
}

function settle(ok: boolean | Promise<boolean>, result: AuthResult): AuthResult | null | Promise<AuthResult | null> {
  if (typeof ok === "boolean") return ok ? result : null;
  return ok.then((v) => (v ? result : null));
}

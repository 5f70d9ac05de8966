// Client authentication from the server options: a token, a single user/password, or a users list,
// each secret either plain or a bcrypt hash, and nkey users, who prove their key by signing the
// nonce of their INFO; `no_auth_user` names the identity of clients that send no credentials.
// Hash comparisons run asynchronously so a CONNECT never blocks the event loop.

import bcrypt from "bcryptjs";
import { createPublicKey, randomBytes, timingSafeEqual, verify } from "node:crypto";
import { publicNkeyBytes } from "../config/nkey.js";
import type { Permissions } from "./permissions.js";

export interface UserEntry {
  user: string;
  /** An nkey user: its public key (also its `user`); it has no password. */
  nkey?: string;
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
  /** A public user nkey and its signature of the INFO nonce (base64url, or standard base64). */
  nkey?: string;
  sig?: string;
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
  private readonly nkeys: Map<string, UserEntry> | null;

  constructor(
    private readonly cfg: AuthConfig | undefined,
    private readonly noAuthUser: string | undefined,
  ) {
    const c = cfg ?? {};
    this.required = !!(c.token || c.user || (c.users && c.users.length > 0));
    // An nkey user can only be an nkey: never by name with an empty password.
    const named = (c.users ?? []).filter((u) => u.nkey === undefined);
    const nkeyed = (c.users ?? []).filter((u) => u.nkey !== undefined);
    this.users = named.length > 0 ? new Map(named.map((u) => [u.user, u])) : null;
    this.nkeys = nkeyed.length > 0 ? new Map(nkeyed.map((u) => [u.nkey!, u])) : null;
  }

  /** With nkey users, every INFO carries a nonce for the client to sign. */
  get needsNonce(): boolean {
    return this.nkeys !== null;
  }

  /** nats-server's nonce: 11 random bytes, base64url without padding. */
  newNonce(): string {
    return randomBytes(11).toString("base64url");
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

  /** null means "not authorized". `nonce` is the one this client's INFO carried. */
  authenticate(creds: ConnectCredentials, nonce?: string): AuthResult | null | Promise<AuthResult | null> {
    if (!this.required) return {};
    const cfg = this.cfg!;
    // As nats-server: a client that names an nkey is judged by it alone.
    if (this.nkeys && creds.nkey) {
      const u = this.nkeys.get(creds.nkey);
      if (!u || nonce === undefined || !verifyNonceSig(creds.nkey, nonce, creds.sig ?? "")) return null;
      return { user: u.user, permissions: u.permissions ?? cfg.permissions };
    }
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

/** DER prefix of an ed25519 SubjectPublicKeyInfo; the 32 key bytes follow. */
const ED25519_SPKI = Buffer.from("302a300506032b6570032100", "hex");

/** Did the holder of the user nkey `pub` sign `nonce`? */
export function verifyNonceSig(pub: string, nonce: string, sigText: string): boolean {
  const raw = publicNkeyBytes(pub, "user");
  if (raw === undefined || sigText === "") return false;
  // base64url (what clients send) and standard base64 both decode here.
  const sig = Buffer.from(sigText, "base64");
  if (sig.length !== 64) return false;
  try {
    const key = createPublicKey({ key: Buffer.concat([ED25519_SPKI, raw]), format: "der", type: "spki" });
    return verify(null, Buffer.from(nonce), key, sig);
  } catch {
    return false;
  }
}

function settle(ok: boolean | Promise<boolean>, result: AuthResult): AuthResult | null | Promise<AuthResult | null> {
  if (typeof ok === "boolean") return ok ? result : null;
  return ok.then((v) => (v ? result : null));
}

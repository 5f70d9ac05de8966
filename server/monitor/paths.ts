// Request paths as Go's net/http treats them before nats-server's handlers run: ServeMux's clean
// path (path.Clean, keeping a trailing slash), its 301 to the clean path, and url.URL's escaping of
// the path in the Location it sends.

/** path.Clean: one slash between elements, no "." elements, ".." resolved, rooted. */
function goClean(p: string): string {
  const out: string[] = [];
  for (const el of p.split("/")) {
    if (el === "" || el === ".") continue;
    if (el === "..") out.pop();
    else out.push(el);
  }
  return "/" + out.join("/");
}

/** ServeMux's cleanPath. */
export function cleanPath(p: string): string {
  if (p === "") return "/";
  if (!p.startsWith("/")) p = "/" + p;
  let np = goClean(p);
  if (p.endsWith("/") && np !== "/") np += "/";
  return np;
}

/** url.URL's escaping of a path (encodePath): unreserved and most reserved bytes stay, others become %XX. */
export function escapePath(bin: string): string {
  let out = "";
  for (let i = 0; i < bin.length; i++) {
    const c = bin[i]!;
    if (/[A-Za-z0-9\-_.~$&+,/:;=@]/.test(c)) out += c;
    else out += "%" + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}

function htmlEscape(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&#34;").replace(/'/g, "&#39;");
}

/** http.Redirect with 301: an HTML body for GET, nothing for other methods. */
export function redirect(method: string, location: string): { status: string; contentType: string; body: string; location: string } {
  const get = method.toUpperCase() === "GET";
  const head = method.toUpperCase() === "HEAD";
  return {
    status: "301 Moved Permanently",
    contentType: get || head ? "text/html; charset=utf-8" : "",
    body: get ? `<a href="${htmlEscape(location)}">Moved Permanently</a>.\n\n` : "",
    location,
  };
}

export interface MuxAnswer {
  status: string;
  contentType: string;
  body: string;
  location?: string;
  close?: boolean;
}

/**
 * What Go's server answers before any handler sees the request: 400 for a path with a bad escape,
 * a 301 to the clean path; null when the request goes on to the handler with `path` (decoded).
 */
export function muxPrecheck(method: string, rawPath: string, rawQuery: string): { answer: MuxAnswer } | { path: string } {
  const path = unescapePath(rawPath);
  if (path === null) return { answer: { status: "400 Bad Request", contentType: "text/plain; charset=utf-8", body: "400 Bad Request", close: true } };
  const clean = cleanPath(path);
  if (clean !== path) return { answer: redirect(method, escapePath(clean) + (rawQuery !== "" ? `?${rawQuery}` : "")) };
  return { path };
}

/** url.PathUnescape into a binary string; null on a bad escape. */
function unescapePath(s: string): string | null {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== "%") {
      out += c;
      continue;
    }
    const h = s.slice(i + 1, i + 3);
    if (!/^[0-9a-fA-F]{2}$/.test(h)) return null;
    out += String.fromCharCode(parseInt(h, 16));
    i += 2;
  }
  return out;
}

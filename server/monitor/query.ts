// Query-string decoding with nats-server's rules and error texts (strconv.ParseBool, Atoi,
// ParseUint), so a tool that sends a bad parameter gets the same 400 body from either server.

/** A bad request parameter: the monitor answers 400 with this text as the body. */
export class BadRequest extends Error {}

const TRUE = new Set(["1", "t", "T", "TRUE", "true", "True"]);
const FALSE = new Set(["0", "f", "F", "FALSE", "false", "False"]);

/** Go's %q of a string, close enough for the ASCII that shows up in query strings. */
function quote(s: string): string {
  return JSON.stringify(s);
}

export class Query {
  private readonly params: URLSearchParams;

  constructor(raw: string) {
    this.params = new URLSearchParams(raw);
  }

  /** The first value of a parameter, or "" (Go's url.Values.Get). */
  get(name: string): string {
    return this.params.get(name) ?? "";
  }

  bool(name: string): boolean {
    const s = this.get(name);
    if (s === "") return false;
    if (TRUE.has(s)) return true;
    if (FALSE.has(s)) return false;
    throw new BadRequest(`Error decoding boolean for '${name}': strconv.ParseBool: parsing ${quote(s)}: invalid syntax`);
  }

  int(name: string): number {
    const s = this.get(name);
    if (s === "") return 0;
    if (!/^[+-]?[0-9]+$/.test(s)) throw new BadRequest(`Error decoding int for '${name}': strconv.Atoi: parsing ${quote(s)}: invalid syntax`);
    const v = Number(s);
    if (!Number.isSafeInteger(v)) throw new BadRequest(`Error decoding int for '${name}': strconv.Atoi: parsing ${quote(s)}: value out of range`);
    return v;
  }

  uint(name: string): number {
    const s = this.get(name);
    if (s === "") return 0;
    if (!/^[0-9]+$/.test(s)) throw new BadRequest(`Error decoding uint64 for '${name}': strconv.ParseUint: parsing ${quote(s)}: invalid syntax`);
    const v = Number(s);
    if (!Number.isSafeInteger(v)) throw new BadRequest(`Error decoding uint64 for '${name}': strconv.ParseUint: parsing ${quote(s)}: value out of range`);
    return v;
  }

  /** `subs=detail` or a boolean `subs`, as /connz and /routez read it. */
  subs(): { subs: boolean; detail: boolean } {
    if (this.get("subs").toLowerCase() === "detail") return { subs: false, detail: true };
    return { subs: this.bool("subs"), detail: false };
  }
}

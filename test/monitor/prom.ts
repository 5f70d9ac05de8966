// A strict reader of the Prometheus text format, enough to check /metrics: every family announced
// by HELP and TYPE before its samples, each family's samples together, label values unescaped.
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Parsed {
  samples: Sample[];
  types: Map<string, string>;
  has(name: string): boolean;
  /** The value of the one sample of `name` whose labels include `match`. */
  value(name: string, match?: Record<string, string>): number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:\\.|[^"\\])*)"(?:,|$)/g;

export function parseMetrics(text: string): Parsed {
  if (!text.endsWith("\n")) throw new Error("exposition must end with a newline");
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  const helps = new Set<string>();
  const finished = new Set<string>();
  let current = "";
  for (const line of text.slice(0, -1).split("\n")) {
    if (line.startsWith("# HELP ")) {
      const name = line.split(" ")[2]!;
      if (helps.has(name)) throw new Error(`second HELP for ${name}`);
      helps.add(name);
      continue;
    }
    if (line.startsWith("# TYPE ")) {
      const [, , name, type] = line.split(" ");
      if (types.has(name!)) throw new Error(`second TYPE for ${name}`);
      if (type !== "gauge" && type !== "counter") throw new Error(`unexpected type ${type}`);
      types.set(name!, type);
      if (current && current !== name) finished.add(current);
      current = name!;
      continue;
    }
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`not a sample line: ${JSON.stringify(line)}`);
    const name = m[1]!;
    if (!types.has(name)) throw new Error(`${name} sampled before its TYPE`);
    if (finished.has(name) || name !== current) throw new Error(`${name} samples are not together`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(LABEL)) labels[l[1]!] = l[2]!.replace(/\\n/g, "\n").replace(/\\"/g, '"').replace(/\\\\/g, "\\");
    const value = Number(m[3]);
    if (Number.isNaN(value) && m[3] !== "NaN") throw new Error(`bad value in ${line}`);
    samples.push({ name, labels, value });
  }
  return {
    samples,
    types,
    has: (name) => samples.some((s) => s.name === name),
    value(name, match = {}) {
      const found = samples.filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v));
      if (found.length !== 1) throw new Error(`${found.length} samples of ${name} ${JSON.stringify(match)}`);
      return found[0]!.value;
    },
  };
}

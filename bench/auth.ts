// Just enough registry auth for a benchmark: answer a Bearer challenge with a
// token fetched from the realm (Docker token flow), or a Basic challenge with
// credentials. Credentials: BERTH_BENCH_AUTH="user:secret", else a best guess
// at the owner API key that Berth writes into its fresh data folder.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

export interface Credentials {
  user: string;
  secret: string;
}

export interface Challenge {
  scheme: "bearer" | "basic";
  params: Record<string, string>;
}

export function parseChallenge(header: string | undefined): Challenge | undefined {
  if (!header) return undefined;
  const m = /^\s*(Bearer|Basic)\b(.*)$/i.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  for (const p of m[2]!.matchAll(/(\w+)="([^"]*)"/g)) params[p[1]!.toLowerCase()] = p[2]!;
  return { scheme: m[1]!.toLowerCase() as Challenge["scheme"], params };
}

export function basicHeader(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.user}:${c.secret}`).toString("base64")}`;
}

export function credentialsFromEnv(): Credentials | undefined {
  const raw = process.env.BERTH_BENCH_AUTH;
  if (!raw || !raw.includes(":")) return undefined;
  const i = raw.indexOf(":");
  return { user: raw.slice(0, i), secret: raw.slice(i + 1) };
}

/** Look for a small key file in Berth's data folder (the owner API key is written there on first start). */
export function guessBerthCredentials(dataDir: string): Credentials | undefined {
  let names: string[];
  try {
    names = readdirSync(dataDir);
  } catch {
    return undefined;
  }
  for (const name of names.filter((n) => /key|cred|owner|admin/i.test(n))) {
    const path = join(dataDir, name);
    try {
      if (!statSync(path).isFile() || statSync(path).size > 8192) continue;
      const text = readFileSync(path, "utf8");
      const secret = keyFromText(text);
      if (secret) return { user: "iamapikey", secret };
    } catch {
      // not readable: keep looking
    }
  }
  return undefined;
}

function keyFromText(text: string): string | undefined {
  try {
    const json: unknown = JSON.parse(text);
    if (json && typeof json === "object") {
      for (const [k, v] of Object.entries(json)) {
        if (/^(api_?key|apikey)$/i.test(k) && typeof v === "string") return v;
      }
    }
  } catch {
    // not JSON: fall through to a line that looks like a key
  }
  return text
    .split(/\s+/)
    .find((w) => /^[A-Za-z0-9_-]{32,}$/.test(w));
}

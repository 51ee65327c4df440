// Just enough registry auth for a benchmark: answer a Bearer challenge with a
// token fetched from the realm (Docker token flow), or a Basic challenge with
// credentials. Credentials: BERTH_BENCH_AUTH="user:secret", else the owner API
// key that Berth writes into its fresh data folder.
import { readFileSync } from "node:fs";
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

/**
 * The owner API key Berth writes on its first start (`<data>/owner-apikey`, the key alone on one
 * line, once IAM lands), used with the `iamapikey` username.
 */
export function ownerCredentials(dataDir: string): Credentials | undefined {
  try {
    const secret = readFileSync(join(dataDir, "owner-apikey"), "utf8").trim();
    return secret ? { user: "iamapikey", secret } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Berth refuses pushes into a namespace that does not exist: make the benchmark's (`bench`) with
 * the owner key, through the management API, as an operator would.
 */
export async function createBenchNamespace(baseUrl: string, creds: Credentials, namespace = "bench"): Promise<void> {
  const grant = new URLSearchParams({ grant_type: "urn:ibm:params:oauth:grant-type:apikey", apikey: creds.secret });
  const tokenReply = await fetch(`${baseUrl}/identity/token`, { method: "POST", body: grant });
  if (tokenReply.status !== 200) throw new Error(`IAM token for the bench namespace: HTTP ${tokenReply.status}`);
  const token = ((await tokenReply.json()) as { access_token: string }).access_token;
  const account = (JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()) as { account: { bss: string } }).account.bss;
  const created = await fetch(`${baseUrl}/api/v1/namespaces/${namespace}`, { method: "PUT", headers: { authorization: `Bearer ${token}`, account } });
  if (created.status !== 201 && created.status !== 200) throw new Error(`creating namespace ${namespace}: HTTP ${created.status}`);
}

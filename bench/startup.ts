// Start-up cost of the commands people and tools run most: `berth --help`, and the credential helper
// docker runs on every pull, each against bare `node -e 0` (the floor: Node itself starting).
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface StartupFigure {
  command: string;
  medianMs: number;
  /** Median over the floor's median: the target is at most 1.5. */
  ratio: number;
}

interface Probe {
  command: string;
  args: string[];
  input?: string;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function wallMs(probe: Probe, env: NodeJS.ProcessEnv): number {
  const started = process.hrtime.bigint();
  spawnSync(process.execPath, probe.args, { env, input: probe.input ?? "", stdio: ["pipe", "ignore", "ignore"] });
  return Number(process.hrtime.bigint() - started) / 1e6;
}

/** Runs the probes round-robin (so drift in the machine's load hits each alike) and reports medians. */
export function measureStartup(runs: number): StartupFigure[] {
  // An empty home: the helper finds no session and answers "not found", as for a registry that is not ours.
  const home = mkdtempSync(join(tmpdir(), "berth-bench-home-"));
  const env = { ...process.env, HOME: home, XDG_CONFIG_HOME: join(home, ".config") };
  const probes: Probe[] = [
    { command: "node -e 0", args: ["-e", "0"] },
    { command: "berth --help", args: ["bin/berth.js", "--help"] },
    { command: "berth --version", args: ["bin/berth.js", "--version"] },
    { command: "docker-credential-berth get", args: ["bin/docker-credential-berth.js", "get"], input: "registry.example:443\n" },
  ];
  const times = probes.map(() => [] as number[]);
  try {
    for (const probe of probes) wallMs(probe, env); // warm the file cache
    for (let run = 0; run < runs; run++) probes.forEach((probe, i) => times[i]!.push(wallMs(probe, env)));
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
  const floor = median(times[0]!);
  return probes.map((probe, i) => ({ command: probe.command, medianMs: median(times[i]!), ratio: median(times[i]!) / floor }));
}

export function formatStartup(figures: StartupFigure[], runs: number): string {
  const lines = figures.map((f) => `${f.command.padEnd(28)} ${f.medianMs.toFixed(0).padStart(5)} ms  ${f.ratio.toFixed(2)}×`);
  return [`start-up, median of ${runs} runs (target: at most 1.50× node -e 0)`, ...lines].join("\n");
}

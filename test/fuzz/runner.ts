import fc from 'fast-check';

/**
 * Seed and time budget of the fuzz suite. FUZZ_SEED reproduces a run (the failure report prints
 * it); FUZZ_BUDGET_MS bounds the inject phases; FUZZ_RUNS caps and FUZZ_MIN_RUNS floors the runs
 * per route and phase;
 * FUZZ_ROUTE narrows a run to routes whose key contains it.
 */
export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 20_250_607);
export const FUZZ_BUDGET_MS = Number(process.env.FUZZ_BUDGET_MS ?? 20_000);
export const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 60);
export const FUZZ_MIN_RUNS = Math.min(FUZZ_RUNS, Number(process.env.FUZZ_MIN_RUNS ?? 4));
export const FUZZ_ROUTE = process.env.FUZZ_ROUTE;

/** A stable per-route seed, so adding a route does not reshuffle the others. */
export function seedFor(label: string): number {
  let h = FUZZ_SEED | 0;
  for (const c of label) h = (Math.imul(h ^ c.charCodeAt(0), 0x01000193) | 0) >>> 0;
  return h | 0;
}

export interface Finding {
  where: string;
  violation: string;
  request: string;
  response: string;
}

/** Collects violations, one example per (route, violation), and the counts per route. */
export class FindingLog {
  private readonly byKey = new Map<string, Finding>();
  readonly sent = new Map<string, number>();
  readonly statuses = new Map<string, Map<number, number>>();

  count(route: string, status: number): void {
    this.sent.set(route, (this.sent.get(route) ?? 0) + 1);
    const histogram = this.statuses.get(route) ?? new Map<number, number>();
    histogram.set(status, (histogram.get(status) ?? 0) + 1);
    this.statuses.set(route, histogram);
  }

  /** Findings are reported per phase; counts add up over the run. */
  startPhase(): void {
    this.byKey.clear();
  }

  add(finding: Finding): void {
    const key = `${finding.where.split(' as ')[0]} | ${finding.violation.replace(/\d{3}/g, 'NNN')}`;
    if (!this.byKey.has(key)) this.byKey.set(key, finding);
  }

  report(): string[] {
    return [...this.byKey.values()].map(
      (f) => `${f.where}: ${f.violation}\n    request: ${f.request}\n    response: ${f.response}\n    reproduce: FUZZ_SEED=${FUZZ_SEED} FUZZ_ROUTE='${f.where.split(' as ')[0]}'`,
    );
  }

  histogram(): string {
    return [...this.statuses.entries()]
      .map(([route, h]) => `${route}: ${[...h.entries()].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(' ')}`)
      .join('\n');
  }
}

/**
 * Runs `check` on up to FUZZ_RUNS inputs generated for one route (the same ones for the same
 * seed), stopping early when its time slice is used — but never before `minRuns`, so a slow
 * machine still covers every route. `check` never throws for a violation: violations go to the
 * log, so one run reports every route's findings.
 */
export async function fuzz<T>(label: string, arbitrary: fc.Arbitrary<T>, timeMs: number, check: (input: T) => Promise<void>, minRuns = FUZZ_MIN_RUNS): Promise<number> {
  const end = Date.now() + timeMs;
  let runs = 0;
  for (const input of fc.sample(arbitrary, { seed: seedFor(label), numRuns: FUZZ_RUNS })) {
    if (runs >= minRuns && Date.now() > end) break;
    await check(input);
    runs += 1;
  }
  return runs;
}

/** Splits what is left of a budget evenly over the routes still to do. */
export class Budget {
  private readonly end: number;
  constructor(totalMs: number) {
    this.end = Date.now() + totalMs;
  }
  slice(remainingItems: number): number {
    return Math.max(0, this.end - Date.now()) / Math.max(1, remainingItems);
  }
}

import type { IncomingMessage, ServerResponse } from 'node:http';

/** The outcome of one named check. */
export interface CheckResult {
  ok: boolean;
  /** A short human explanation, shown in the readiness body (never a secret). */
  detail?: string;
}

/** A readiness or liveness check; it must settle within the registry's timeout or it counts as failed. */
export type HealthCheck = () => Promise<CheckResult> | CheckResult;

/** One check's outcome in a report. `gating: false` marks a check that is reported but does not decide readiness. */
export type ReportedCheck = CheckResult & { durationMs: number; gating?: false };

/** The JSON body of /healthz and /readyz. */
export interface HealthReport {
  status: 'ok' | 'fail';
  checks: Record<string, ReportedCheck>;
}

/** How a readiness check counts. */
export interface CheckOptions {
  /**
   * When false, the check is reported in /readyz but a failure does not make the process unready. Use it for a
   * dependency that only some requests need (taking the instance out of the Service would fail the others too).
   * Default true.
   */
  gating?: boolean;
}

/**
 * Named health checks for `/healthz` (liveness: is the process able to work) and `/readyz` (readiness: should it get
 * traffic now). Readiness fails as soon as shutdown starts, so load balancers drain the instance first.
 */
export class HealthRegistry {
  private readonly readiness = new Map<string, HealthCheck>();
  private readonly liveness = new Map<string, HealthCheck>();
  private readonly nonGating = new Set<string>();
  private draining = false;
  private failed: string | undefined;
  private readonly timeoutMs: number;

  constructor(options: { timeoutMs?: number } = {}) {
    this.timeoutMs = options.timeoutMs ?? 2000;
  }

  /** Adds a readiness check (e.g. "browsers", "cache-synced"). */
  addCheck(name: string, check: HealthCheck, options: CheckOptions = {}): void {
    this.readiness.set(name, check);
    if (options.gating === false) this.nonGating.add(name);
    else this.nonGating.delete(name);
  }

  /** Adds a liveness check (keep these cheap and local: a failing one gets the process restarted). */
  addLivenessCheck(name: string, check: HealthCheck): void {
    this.liveness.set(name, check);
  }

  /** Marks the process as shutting down: readiness fails from now on. */
  setDraining(): void {
    this.draining = true;
  }

  /**
   * Marks the process as failed (an uncaught exception: its state may be corrupt): readiness fails from now on with
   * `detail`, whatever the checks say, until the process exits.
   */
  setFailed(detail: string): void {
    this.failed ??= detail;
  }

  /** Runs the readiness checks. */
  async ready(): Promise<HealthReport> {
    const report = await this.run(this.readiness);
    if (this.failed !== undefined) {
      report.status = 'fail';
      report.checks['process'] = { ok: false, detail: this.failed, durationMs: 0 };
    }
    if (this.draining) {
      report.status = 'fail';
      report.checks['shutdown'] = { ok: false, detail: 'shutting down', durationMs: 0 };
    }
    return report;
  }

  /** Runs the liveness checks. */
  live(): Promise<HealthReport> {
    return this.run(this.liveness);
  }

  /** HTTP handler for `/readyz`: 200 when every check passes, else 503; JSON body with each check. */
  readinessHandler = (_request: IncomingMessage, response: ServerResponse): void => {
    void this.ready().then((report) => writeReport(response, report));
  };

  /** HTTP handler for `/healthz`. */
  livenessHandler = (_request: IncomingMessage, response: ServerResponse): void => {
    void this.live().then((report) => writeReport(response, report));
  };

  private async run(checks: Map<string, HealthCheck>): Promise<HealthReport> {
    const entries = await Promise.all([...checks].map(async ([name, check]) => [name, await this.runOne(check)] as const));
    const result: HealthReport = { status: 'ok', checks: {} };
    for (const [name, outcome] of entries) {
      const gating = !this.nonGating.has(name);
      result.checks[name] = gating ? outcome : { ...outcome, gating: false };
      if (!outcome.ok && gating) result.status = 'fail';
    }
    return result;
  }

  private async runOne(check: HealthCheck): Promise<ReportedCheck> {
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<CheckResult>((resolve) => {
        timer = setTimeout(() => resolve({ ok: false, detail: `check timed out after ${this.timeoutMs} ms` }), this.timeoutMs);
      });
      const outcome = await Promise.race([Promise.resolve().then(check), timeout]);
      return { ...outcome, durationMs: Math.round(performance.now() - started) };
    } catch (error) {
      return { ok: false, detail: (error as Error).message, durationMs: Math.round(performance.now() - started) };
    } finally {
      clearTimeout(timer);
    }
  }
}

function writeReport(response: ServerResponse, report: HealthReport): void {
  const body = JSON.stringify(report);
  response.writeHead(report.status === 'ok' ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  response.end(body);
}

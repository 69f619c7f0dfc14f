import { metrics, type Counter, type Histogram, type Meter } from '@opentelemetry/api';

/** Meter name of the MCP server's own instruments. */
export const SERVER_METER_NAME = 'composer-mcp-server';

/**
 * Tool-call instruments: calls by tool and outcome (`composer_mcp_tool_calls_total`) and their duration
 * (`composer_mcp_tool_duration_seconds`). Create once per process; every per-request MCP server shares them.
 */
export class ToolMetrics {
  private readonly calls: Counter;
  private readonly duration: Histogram;

  constructor(meter: Meter = metrics.getMeter(SERVER_METER_NAME)) {
    this.calls = meter.createCounter('composer_mcp.tool.calls', { description: 'MCP tool calls by tool and outcome (ok or the error code).' });
    this.duration = meter.createHistogram('composer_mcp.tool.duration_seconds', {
      description: 'Duration of MCP tool calls.',
      unit: 's',
      advice: { explicitBucketBoundaries: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] },
    });
  }

  /** Records one finished call. `outcome` is "ok" or a ToolErrorCode, so its values are bounded. */
  record(tool: string, outcome: string, durationMs: number): void {
    this.calls.add(1, { tool, outcome });
    this.duration.record(durationMs / 1000, { tool, outcome });
  }
}

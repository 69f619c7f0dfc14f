/** A registered tool call: its cancellation signal, and the function to call when it ends. */
export interface RunningCall {
  signal: AbortSignal;
  end(): void;
}

/**
 * The tool calls running in this process, by caller and JSON-RPC request id, so that a 2025-era
 * `notifications/cancelled` arriving in a later HTTP request (the stateless transport builds a fresh MCP server per
 * request, which knows nothing of earlier ones) can still reach the call it names. A caller can only cancel its own
 * calls: the key includes the caller (the JWT subject, or the caller nonce of an anonymous 2025 client; calls of an
 * anonymous caller without one are not registered). When a key is ambiguous (one caller reusing a request id),
 * nothing is cancelled rather than the wrong call.
 */
export class RunningCalls {
  private readonly calls = new Map<string, Set<AbortController>>();

  private static key(caller: string, requestId: string | number): string {
    return `${caller}\u0000${typeof requestId}:${String(requestId)}`;
  }

  /** Registers a call; its signal aborts when a matching cancel arrives. Call `end()` exactly once when it finishes. */
  start(caller: string, requestId: string | number): RunningCall {
    const key = RunningCalls.key(caller, requestId);
    const controller = new AbortController();
    let set = this.calls.get(key);
    if (!set) this.calls.set(key, (set = new Set()));
    set.add(controller);
    return {
      signal: controller.signal,
      end: () => {
        set.delete(controller);
        if (set.size === 0 && this.calls.get(key) === set) this.calls.delete(key);
      },
    };
  }

  /** Cancels the caller's call with this request id; answers what happened (never cancels an ambiguous key). */
  cancel(caller: string, requestId: string | number, reason: string): 'cancelled' | 'unknown' | 'ambiguous' {
    const set = this.calls.get(RunningCalls.key(caller, requestId));
    if (!set || set.size === 0) return 'unknown';
    if (set.size > 1) return 'ambiguous';
    const [controller] = set;
    controller!.abort(new DOMException(`cancelled by the client: ${reason}`, 'AbortError'));
    return 'cancelled';
  }

  /** Calls registered now. */
  get size(): number {
    let n = 0;
    for (const set of this.calls.values()) n += set.size;
    return n;
  }
}

/**
 * Raw MCP 2026-07-28 requests over HTTP, for what no SDK client does: creating a task (the v2 client refuses a
 * `resultType: "task"` answer to tools/call) and reading wire fields the clients hide (`resultType`, cache hints).
 * Builds the request exactly as the revision asks: the `_meta` envelope and the MCP-Protocol-Version, Mcp-Method and
 * Mcp-Name headers.
 */
export const MODERN = '2026-07-28';
export const TASKS_EXTENSION = 'io.modelcontextprotocol/tasks';

export interface ModernAnswer {
  status: number;
  /** The JSON-RPC response (from a JSON body, or the SSE event that answers the request). */
  message: { id?: unknown; result?: Record<string, unknown>; error?: { code: number; message: string; data?: unknown } };
  /** Every SSE message before the answer (progress notifications). */
  related: Array<Record<string, unknown>>;
}

let nextId = 1;

function nameOf(method: string, params: Record<string, unknown>): string | undefined {
  if (method === 'tools/call' || method === 'prompts/get') return params['name'] as string;
  if (method === 'resources/read') return params['uri'] as string;
  if (method.startsWith('tasks/')) return params['taskId'] as string;
  return undefined;
}

/** Sends one 2026-07-28 request; `tasks` declares the tasks extension in the request's client capabilities. */
export async function modernRequest(
  url: string,
  method: string,
  params: Record<string, unknown> = {},
  options: { tasks?: boolean; headers?: Record<string, string>; meta?: Record<string, unknown>; signal?: AbortSignal; fetch?: typeof fetch } = {},
): Promise<ModernAnswer> {
  const id = nextId++;
  const name = nameOf(method, params);
  const body = {
    jsonrpc: '2.0',
    id,
    method,
    params: {
      ...params,
      _meta: {
        'io.modelcontextprotocol/protocolVersion': MODERN,
        'io.modelcontextprotocol/clientInfo': { name: 'raw-2026', version: '0' },
        'io.modelcontextprotocol/clientCapabilities': options.tasks ? { extensions: { [TASKS_EXTENSION]: {} } } : {},
        ...options.meta,
      },
    },
  };
  const response = await (options.fetch ?? fetch)(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': MODERN,
      'mcp-method': method,
      ...(name !== undefined ? { 'mcp-name': name } : {}),
      ...options.headers,
    },
    body: JSON.stringify(body),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const text = await response.text();
  const related: Array<Record<string, unknown>> = [];
  if ((response.headers.get('content-type') ?? '').includes('text/event-stream')) {
    for (const line of text.split('\n')) {
      if (!line.startsWith('data:')) continue;
      const message = JSON.parse(line.slice(5)) as Record<string, unknown>;
      if (message['id'] === id) return { status: response.status, message: message as ModernAnswer['message'], related };
      related.push(message);
    }
    throw new Error(`no answer to request ${id} in the SSE stream: ${text.slice(0, 500)}`);
  }
  return { status: response.status, message: JSON.parse(text) as ModernAnswer['message'], related };
}

/** The result of a request that must succeed. */
export async function modernResult(url: string, method: string, params: Record<string, unknown> = {}, options: Parameters<typeof modernRequest>[3] = {}): Promise<Record<string, unknown>> {
  const answer = await modernRequest(url, method, params, options);
  if (!answer.message.result) throw new Error(`${method} failed (HTTP ${answer.status}): ${JSON.stringify(answer.message.error)}`);
  return answer.message.result;
}

/** Polls tasks/get until the task leaves `working`; resolves the DetailedTask. */
export async function awaitTask(url: string | (() => string), taskId: string, options: { timeoutMs?: number; intervalMs?: number; headers?: Record<string, string>; fetch?: typeof fetch } = {}): Promise<Record<string, unknown>> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    const target = typeof url === 'string' ? url : url();
    const task = await modernResult(target, 'tasks/get', { taskId }, { tasks: true, ...(options.headers ? { headers: options.headers } : {}), ...(options.fetch ? { fetch: options.fetch } : {}) });
    if (task['status'] !== 'working') return task;
    if (Date.now() > deadline) throw new Error(`task ${taskId} still working after ${options.timeoutMs ?? 30_000} ms`);
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 100));
  }
}

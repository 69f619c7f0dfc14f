import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { viewOf } from './json-rpc-message.ts';

/** JSON-RPC error code of a header that disagrees with the body (SEP-2243). */
const HEADER_MISMATCH = -32020;
/** JSON-RPC error code of a request that needs a client capability the request did not declare. */
const MISSING_CLIENT_CAPABILITY = -32021;
const TASKS_EXTENSION = 'io.modelcontextprotocol/tasks';
const TASK_METHODS = new Set(['tasks/get', 'tasks/update', 'tasks/cancel']);

function refuse(res: Response, id: unknown, code: number, message: string, data?: unknown): void {
  res.status(400).json({ jsonrpc: '2.0', id: id ?? null, error: { code, message, ...(data === undefined ? {} : { data }) } });
}

/**
 * The HTTP rules of the tasks extension the SDK does not know (2026-07-28 requests only): `tasks/get`, `tasks/update`
 * and `tasks/cancel` must carry `Mcp-Name: <taskId>` (SEP-2663 routing header; missing or different: 400 -32020), and
 * a tool that runs only as a task is refused with 400 -32021 to a request that does not declare the extension.
 */
export function tasksEdge(requiredTaskTools: ReadonlySet<string>): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const view = viewOf(req.body);
    if (!view || view.envelopeVersion === undefined || !view.isRequest) return next();
    const id = (req.body as { id?: unknown }).id;
    if (view.method && TASK_METHODS.has(view.method)) {
      const taskId = view.params?.['taskId'];
      const header = req.headers['mcp-name'];
      if (typeof taskId === 'string' && header !== taskId) {
        refuse(res, id, HEADER_MISMATCH, header === undefined ? `Bad Request: ${view.method} needs the Mcp-Name header, set to its taskId.` : `Bad Request: the Mcp-Name header names "${String(header)}" but params.taskId is "${taskId}".`);
        return;
      }
    }
    const name = view.params?.['name'];
    if (view.method === 'tools/call' && typeof name === 'string' && requiredTaskTools.has(name)) {
      const extensions = view.envelopeCapabilities?.['extensions'];
      if (!(typeof extensions === 'object' && extensions !== null && TASKS_EXTENSION in extensions)) {
        refuse(res, id, MISSING_CLIENT_CAPABILITY, `${name} runs only as a task: declare the ${TASKS_EXTENSION} extension in the request's client capabilities.`, { requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } } });
        return;
      }
    }
    next();
  };
}

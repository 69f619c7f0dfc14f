/** The parts of a JSON-RPC message body the HTTP edge looks at before the SDK serves it. */
export interface JsonRpcMessageView {
  method: string | undefined;
  /** True for a request (it has an id), false for a notification or response. */
  isRequest: boolean;
  params: Record<string, unknown> | undefined;
  /** The `_meta` envelope claim of a 2026-07-28 request: its protocol version. */
  envelopeVersion: string | undefined;
  /** The client capabilities a 2026-07-28 request declares in its envelope. */
  envelopeCapabilities: Record<string, unknown> | undefined;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** A view of a parsed body (undefined for anything that is not one JSON-RPC message object). */
export function viewOf(body: unknown): JsonRpcMessageView | undefined {
  const message = record(body);
  if (!message) return undefined;
  const params = record(message['params']);
  const meta = record(params?.['_meta']);
  const version = meta?.['io.modelcontextprotocol/protocolVersion'];
  return {
    method: typeof message['method'] === 'string' ? message['method'] : undefined,
    isRequest: 'id' in message && message['id'] !== null && message['id'] !== undefined,
    params,
    envelopeVersion: typeof version === 'string' ? version : undefined,
    envelopeCapabilities: record(meta?.['io.modelcontextprotocol/clientCapabilities']),
  };
}

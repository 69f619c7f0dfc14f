/** What an error from the Kubernetes API says, read from whichever shape the client produced. */
export interface KubeErrorInfo {
  /** HTTP status code, when the error came from an HTTP response or a watch `Status` event. */
  code?: number;
  /** The `Status.reason` (e.g. "Conflict", "NotFound", "Expired", "AlreadyExists"), when the server sent one. */
  reason?: string;
  /** The server's `Status.message` when present, else the error's own message. */
  message: string;
}

/** A `metav1.Status` as the API server sends it in error bodies and watch `ERROR` events. */
export interface KubeStatus {
  kind?: string;
  status?: string;
  code?: number;
  reason?: string;
  message?: string;
}

/** An API `Status` failure turned into an Error (used for watch `ERROR` events, which are not HTTP errors). */
export class KubeStatusError extends Error {
  /** HTTP-style code from the Status (410 for an expired resourceVersion). */
  readonly code: number | undefined;
  /** `Status.reason`. */
  readonly reason: string | undefined;

  constructor(status: KubeStatus, context = 'Kubernetes API') {
    super(`${context}: ${status.message ?? status.reason ?? 'unknown error'} (code ${status.code ?? '?'})`);
    this.name = 'KubeStatusError';
    this.code = status.code;
    this.reason = status.reason;
  }
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
}

function parseStatusBody(body: unknown): KubeStatus | undefined {
  if (typeof body === 'string') {
    try {
      return asRecord(JSON.parse(body)) as KubeStatus | undefined;
    } catch {
      return undefined;
    }
  }
  return asRecord(body) as KubeStatus | undefined;
}

/**
 * Reads code, reason and message from any error the client-node library (2.x) or this runtime produces:
 * `ApiException` (numeric `code`, `body` a JSON string of a Status), watch HTTP errors (`statusCode`),
 * {@link KubeStatusError}, and plain network errors (no code).
 */
export function kubeErrorInfo(err: unknown): KubeErrorInfo {
  const record = asRecord(err);
  if (!record) return { message: String(err) };
  const status = parseStatusBody(record['body']);
  const rawCode = record['code'] ?? record['statusCode'] ?? status?.code;
  const code = typeof rawCode === 'number' ? rawCode : undefined;
  const reason = typeof record['reason'] === 'string' ? record['reason'] : status?.reason;
  const ownMessage = typeof record['message'] === 'string' ? record['message'] : String(err);
  const message = status?.message ?? ownMessage;
  const info: KubeErrorInfo = { message };
  if (code !== undefined) info.code = code;
  if (reason !== undefined) info.reason = reason;
  return info;
}

/** True for HTTP 409: an optimistic-concurrency conflict or an object that already exists. Requeue, don't alarm. */
export function isConflict(err: unknown): boolean {
  return kubeErrorInfo(err).code === 409;
}

/** True for HTTP 409 with reason AlreadyExists (a create raced another writer). */
export function isAlreadyExists(err: unknown): boolean {
  const info = kubeErrorInfo(err);
  return info.code === 409 && info.reason === 'AlreadyExists';
}

/** True for HTTP 404. */
export function isNotFound(err: unknown): boolean {
  return kubeErrorInfo(err).code === 404;
}

/** True for HTTP 410 / reason Expired or Gone: the resourceVersion is too old, a fresh list is needed. */
export function isGone(err: unknown): boolean {
  const info = kubeErrorInfo(err);
  return info.code === 410 || info.reason === 'Expired' || info.reason === 'Gone';
}

/** A short one-line description for logs: "409 Conflict: the object has been modified". */
export function describeKubeError(err: unknown): string {
  const info = kubeErrorInfo(err);
  const head = [info.code, info.reason].filter((part) => part !== undefined).join(' ');
  return head ? `${head}: ${info.message}` : info.message;
}

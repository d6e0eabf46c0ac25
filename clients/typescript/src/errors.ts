// errors.ts - the client's errors: HeraldError for every error answer of the API (the one
// error shape of DESIGN.md: type, code, message, param, errors[]), HeraldNetworkError when no
// answer came.
import type { components } from './generated/openapi';

export type ErrorDetail = components['schemas']['ErrorDetail'];
export type FieldError = components['schemas']['FieldError'];

/** An error answer of the API: `status` is the HTTP status, the rest is `error` of the body. */
export class HeraldError extends Error {
  readonly status: number;
  readonly type: ErrorDetail['type'] | 'unknown';
  readonly code: string;
  readonly param: string | undefined;
  readonly errors: FieldError[];
  readonly requestId: string | null;
  /** Seconds to wait before retrying (429 and 503 with Retry-After), else null. */
  readonly retryAfter: number | null;

  constructor(status: number, detail: Partial<ErrorDetail> | undefined, headers?: Headers) {
    super(detail?.message ?? `HTTP ${status}`);
    this.name = 'HeraldError';
    this.status = status;
    this.type = detail?.type ?? 'unknown';
    this.code = detail?.code ?? `http_${status}`;
    this.param = detail?.param;
    this.errors = detail?.errors ?? [];
    this.requestId = headers?.get('x-request-id') ?? null;
    const ra = headers?.get('retry-after');
    this.retryAfter = ra != null && /^\d+$/.test(ra) ? Number(ra) : null;
  }
}

/** The request did not get an answer (connection refused, reset, aborted). */
export class HeraldNetworkError extends Error {
  readonly cause: unknown;
  constructor(message: string, cause: unknown) {
    super(message);
    this.name = 'HeraldNetworkError';
    this.cause = cause;
  }
}

/** Builds the HeraldError of a non-2xx response (its body may not be JSON). */
export async function errorFromResponse(res: Response): Promise<HeraldError> {
  let detail: Partial<ErrorDetail> | undefined;
  try {
    const body = (await res.json()) as { error?: Partial<ErrorDetail> };
    detail = body?.error;
  } catch {
    detail = undefined;
  }
  return new HeraldError(res.status, detail, res.headers);
}

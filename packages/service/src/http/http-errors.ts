import { type ErrorCode, errorCategory, ShardkitError } from "@shardkit/directory";

/** The JSON body of every error answer: `{ error: { code, message } }`. */
export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string };
}

/** The HTTP status of each error category. */
const STATUS_OF_CATEGORY = {
  usage: 400,
  not_found: 404,
  conflict: 409,
  unavailable: 503,
  query: 400,
  internal: 500,
} as const;

/** A request the service refuses: a shardkit code and the HTTP status it answers with. */
export class HttpError extends ShardkitError {
  readonly status: number;
  constructor(status: number, code: ErrorCode, message: string) {
    super(code, message);
    this.name = "HttpError";
    this.status = status;
  }
}

/** Fastify's own refusals (body, content type), said the way the API says everything else. */
const FASTIFY_ERRORS: Readonly<Record<string, (limit: number) => string>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: (limit) =>
    `the request body is larger than ${limit} bytes; send fewer keys per request`,
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () => "send the body as JSON with Content-Type: application/json",
  FST_ERR_CTP_EMPTY_JSON_BODY: () => 'the body is empty; send JSON such as {"keys": ["42"]}',
  FST_ERR_CTP_INVALID_JSON_BODY: () =>
    'the body is not valid JSON; send JSON such as {"keys": ["42"]}',
};

/**
 * The status and body for any error a handler threw: a shardkit error by its category, a
 * malformed request (bad JSON, too large) as 4xx with a message saying what to send. Only a
 * bug in the service is a 500.
 */
export function errorAnswer(
  error: unknown,
  bodyLimit: number,
): { status: number; body: ErrorBody } {
  if (error instanceof HttpError) return answer(error.status, error.code, error.message);
  if (error instanceof ShardkitError) {
    const status =
      error.code === "UNAUTHORIZED" ? 401 : STATUS_OF_CATEGORY[errorCategory(error.code)];
    return answer(status, error.code, error.message);
  }
  const e = error as { statusCode?: unknown; code?: unknown; message?: unknown };
  if (typeof e.statusCode === "number" && e.statusCode >= 400 && e.statusCode < 500) {
    const say = typeof e.code === "string" ? FASTIFY_ERRORS[e.code] : undefined;
    const message = say
      ? say(bodyLimit)
      : e instanceof SyntaxError
        ? 'the body is not valid JSON; send JSON such as {"keys": ["42"]}'
        : `bad request: ${String(e.message).split("\n")[0]}`;
    return answer(e.statusCode, "BAD_ARGUMENT", message);
  }
  return answer(
    500,
    "INTERNAL",
    `the service failed: ${String(e.message ?? error).split("\n")[0]}`,
  );
}

function answer(status: number, code: string, message: string) {
  return { status, body: { error: { code, message } } };
}

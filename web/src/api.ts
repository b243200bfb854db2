// Talking to the credit-desk JSON API with the person's bearer token.

export interface FieldError {
  field: string;
  message: string;
}

/** A failed call: the API's problem details, or what we could make of it. */
export class ApiError extends Error {
  readonly status: number;
  readonly title: string;
  readonly detail: string;
  readonly errors: FieldError[];

  constructor(status: number, title: string, detail: string, errors: FieldError[] = []) {
    super(detail || title);
    this.name = "ApiError";
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.errors = errors;
  }
}

const TOKEN_KEY = "credit-desk.token";

/** The signed-in person's token lives in this tab's sessionStorage only. */
export const session = {
  token(): string | null {
    try {
      return sessionStorage.getItem(TOKEN_KEY);
    } catch {
      return null;
    }
  },
  save(token: string): void {
    sessionStorage.setItem(TOKEN_KEY, token);
  },
  clear(): void {
    sessionStorage.removeItem(TOKEN_KEY);
  },
};

let expired: (() => void) | null = null;

/** What to do when the API stops accepting the stored token. */
export function onSessionExpired(handler: () => void): void {
  expired = handler;
}

export interface CallOptions {
  body?: unknown;
  /** Use this token instead of the session's (signing in). */
  token?: string;
  accept?: string;
  /** Makes a retry of the same request safe (the API answers it once). */
  idempotencyKey?: string;
}

/** Sends a request; resolves with the parsed JSON (or text), rejects with an ApiError. */
export async function call<T>(method: string, path: string, options: CallOptions = {}): Promise<T> {
  const response = await send(method, path, options);
  if (response.status === 204) return undefined as T;
  const type = response.headers.get("content-type") ?? "";
  return (type.includes("json") ? await response.json() : await response.text()) as T;
}

export const get = <T>(path: string, options?: CallOptions) => call<T>("GET", path, options);
export const post = <T>(path: string, body: unknown) => call<T>("POST", path, { body });
export const put = <T>(path: string, body: unknown) => call<T>("PUT", path, { body });

/**
 * One `Idempotency-Key` per thing a person means to do: sending the same
 * request again (after a network failure, a double click) reuses the key,
 * so the API does it once; a changed request gets a new key (the API
 * refuses a used key with another request).
 */
export class Intent {
  private key = "";
  private sent: string | null = null;

  /** The key for this body: the last one if the body is the same. */
  keyFor(body: unknown): string {
    const text = JSON.stringify(body);
    if (text !== this.sent) {
      this.key = randomKey();
      this.sent = text;
    }
    return this.key;
  }

  /** Done: the next request, even an identical one, is a new intent. */
  done(): void {
    this.sent = null;
  }

  /** POSTs `body` under this intent's key. */
  async post<T>(path: string, body: unknown): Promise<T> {
    const answer = await call<T>("POST", path, { body, idempotencyKey: this.keyFor(body) });
    this.done();
    return answer;
  }
}

/** 128 random bits as hex (crypto.randomUUID needs a secure context; this does not). */
function randomKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function send(method: string, path: string, options: CallOptions): Promise<Response> {
  const token = options.token ?? session.token();
  const headers: Record<string, string> = { accept: options.accept ?? "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  if (options.idempotencyKey) headers["idempotency-key"] = options.idempotencyKey;
  let body: string | undefined;
  if (options.body !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(options.body);
  }
  let response: Response;
  try {
    response = await fetch(path, { method, headers, body, cache: "no-store", credentials: "omit" });
  } catch {
    throw new ApiError(0, "Network error", "credit-desk could not be reached. Check your connection and try again.");
  }
  if (!response.ok) {
    const problem = await readProblem(response);
    // The stored token stopped working (revoked or rotated): back to sign-in.
    if (problem.status === 401 && options.token === undefined && expired) expired();
    throw problem;
  }
  return response;
}

async function readProblem(response: Response): Promise<ApiError> {
  const fallback = response.statusText || `HTTP ${response.status}`;
  const text = await response.text().catch(() => "");
  try {
    const doc = JSON.parse(text) as { title?: unknown; detail?: unknown; errors?: unknown };
    const errors = Array.isArray(doc.errors)
      ? doc.errors
          .filter((e): e is FieldError => typeof e?.field === "string" && typeof e?.message === "string")
          .map((e) => ({ field: e.field, message: e.message }))
      : [];
    return new ApiError(
      response.status,
      typeof doc.title === "string" ? doc.title : fallback,
      typeof doc.detail === "string" ? doc.detail : "",
      errors,
    );
  } catch {
    return new ApiError(response.status, fallback, text.slice(0, 300));
  }
}

/** A sentence for people: what went wrong with a call. */
export function describe(error: unknown): string {
  if (error instanceof ApiError) {
    switch (error.status) {
      case 0:
        return error.detail;
      case 401:
        return "Your token was not accepted. Sign in again with a valid token.";
      case 403:
        return `Not allowed: ${error.detail || "your role cannot do this."}`;
      default: {
        const detail = error.detail || error.title;
        return error.status >= 500
          ? `The server could not complete the request (${error.status}). ${detail}`
          : detail;
      }
    }
  }
  return error instanceof Error ? error.message : String(error);
}

/** Encodes one path segment (ids may hold characters URLs reserve). */
export const seg = (value: string) => encodeURIComponent(value);

/**
 * Fetches a report as CSV with the bearer token and saves it as a file
 * (a plain link cannot carry the Authorization header).
 */
export async function downloadCsv(path: string, fallbackName: string): Promise<string> {
  return downloadFile(path, "text/csv", fallbackName);
}

/** Fetches `path` as `accept` with the bearer token and saves it as a file. */
export async function downloadFile(path: string, accept: string, fallbackName: string): Promise<string> {
  const response = await send("GET", path, { accept });
  const blob = await response.blob();
  const disposition = response.headers.get("content-disposition") ?? "";
  const match = /filename="?([^";]+)"?/i.exec(disposition);
  const name = match?.[1] ?? fallbackName;
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  link.hidden = true;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return name;
}

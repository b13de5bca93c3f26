import type { ErrorCode } from '$lib/shared/errors';

/** What went wrong with an API call, in the API's one error shape (SPEC §5). */
export class ApiError extends Error {
	override name = 'ApiError';
	constructor(
		readonly status: number,
		readonly code: ErrorCode | 'NETWORK' | 'HTTP',
		message: string,
		readonly details?: unknown
	) {
		super(message);
	}

	/** Per-field messages of a 400 (`details: [{ field, message }]`), keyed by field. */
	get fieldErrors(): Record<string, string> {
		const out: Record<string, string> = {};
		if (!Array.isArray(this.details)) return out;
		for (const d of this.details as { field?: unknown; message?: unknown }[]) {
			if (typeof d?.field === 'string' && typeof d.message === 'string' && !(d.field in out)) {
				out[d.field] = d.message;
			}
		}
		return out;
	}
}

export type Query = Record<string, string | number | boolean | null | undefined>;

/** `?a=1&b=2` from the defined, non-empty values of `q`. */
export function qs(q: Query = {}): string {
	const p = new URLSearchParams();
	for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
	const s = p.toString();
	return s ? `?${s}` : '';
}

let onSessionLost: (() => void) | undefined;
/** What to do when the API says the session is gone (idle timeout, logged out elsewhere). */
export function whenSessionLost(fn: () => void) {
	onSessionLost = fn;
}

async function request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
	let res: Response;
	try {
		res = await fetch(path, {
			method,
			signal,
			credentials: 'same-origin',
			headers: {
				accept: 'application/json',
				...(body === undefined ? {} : { 'content-type': 'application/json' })
			},
			body: body === undefined ? undefined : JSON.stringify(body)
		});
	} catch (err) {
		// A request its caller cancelled (a newer search replaced it) is not a network failure.
		if (signal?.aborted) throw err;
		throw new ApiError(0, 'NETWORK', 'MedTrack could not be reached. Check the connection and try again.');
	}
	if (res.status === 204) return undefined as T;
	const text = await res.text();
	let parsed: unknown;
	try {
		parsed = text ? JSON.parse(text) : undefined;
	} catch {
		parsed = undefined;
	}
	if (!res.ok) {
		const err = (parsed as { error?: { code?: ErrorCode; message?: string; details?: unknown } } | undefined)?.error;
		const failure = new ApiError(
			res.status,
			err?.code ?? 'HTTP',
			err?.message ?? `The server answered ${res.status} ${res.statusText}.`,
			err?.details
		);
		if (res.status === 401 && !path.startsWith('/api/auth/')) onSessionLost?.();
		throw failure;
	}
	return parsed as T;
}

/** The one JSON client the pages use: same origin, the session cookie goes along by itself. */
export const api = {
	/** `signal` cancels it (the promise then rejects with the AbortError). */
	get: <T>(path: string, query?: Query, opts: { signal?: AbortSignal } = {}) => request<T>('GET', path + qs(query), undefined, opts.signal),
	post: <T>(path: string, body: unknown = {}) => request<T>('POST', path, body),
	patch: <T>(path: string, body: unknown = {}) => request<T>('PATCH', path, body),
	put: <T>(path: string, body: unknown = {}) => request<T>('PUT', path, body)
};

/** A message for any thrown value, for places that only show one line. */
export function messageOf(err: unknown): string {
	if (err instanceof ApiError) return err.message;
	return 'Something unexpected went wrong. Please try again.';
}

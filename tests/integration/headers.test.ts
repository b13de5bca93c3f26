import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../fixtures/app';

/**
 * The security headers every response carries (src/lib/server/http/app.ts), and the API's own
 * content security policy. Pages get theirs from SvelteKit (svelte.config.js, hashed scripts).
 */
let app: TestApp;
beforeAll(async () => {
	app = await startTestApp({ TRUST_PROXY: 'true' });
});
afterAll(async () => app?.close());

const csp = (v: string | null) =>
	(v ?? '')
		.split(';')
		.map((d) => d.trim())
		.filter(Boolean)
		.sort();

describe('security headers', () => {
	it('an API answer carries the fixed set, a CSP that allows nothing, and no cache', async () => {
		const res = await fetch(`${app.url}/api/health`);
		const h = res.headers;
		expect(h.get('x-content-type-options')).toBe('nosniff');
		expect(h.get('x-frame-options')).toBe('DENY');
		expect(h.get('referrer-policy')).toBe('strict-origin-when-cross-origin');
		expect(h.get('cross-origin-opener-policy')).toBe('same-origin');
		expect(h.get('permissions-policy')).toBe('camera=(), microphone=(), geolocation=(self)');
		expect(csp(h.get('content-security-policy'))).toEqual(["default-src 'none'", "frame-ancestors 'none'"]);
		expect(h.get('cache-control')).toBe('no-store');
		expect(h.get('x-powered-by')).toBeNull();
		// helmet's further defaults.
		expect(h.get('cross-origin-resource-policy')).toBe('same-origin');
		expect(h.get('x-permitted-cross-domain-policies')).toBe('none');
		// HSTS only behind TLS: a plain HTTP answer does not claim it.
		expect(h.get('strict-transport-security')).toBeNull();
	});

	it('behind a TLS-terminating proxy HSTS is sent for a year, subdomains included', async () => {
		const res = await fetch(`${app.url}/api/health`, { headers: { 'x-forwarded-proto': 'https' } });
		expect(res.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
	});

	it('a non-API answer carries the same fixed set (its CSP comes from SvelteKit, browser tests see it)', async () => {
		const res = await fetch(`${app.url}/no-such-page`);
		const h = res.headers;
		expect(h.get('x-frame-options')).toBe('DENY');
		expect(h.get('x-content-type-options')).toBe('nosniff');
		expect(h.get('referrer-policy')).toBe('strict-origin-when-cross-origin');
		expect(h.get('permissions-policy')).toBe('camera=(), microphone=(), geolocation=(self)');
		expect(h.get('cache-control')).toBeNull();
	});
});

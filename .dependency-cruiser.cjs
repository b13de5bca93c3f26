/**
 * Import boundaries (issue #8), checked by `npm run check` (`depcruise src worker scripts`).
 *
 *   api/*  →  services/*  →  repositories/*  →  db/*
 *   $lib/shared is pure: the server and the browser both import it, it imports neither.
 *   The browser (client/, components/, routes' .svelte, +page.ts, +layout.ts) never imports $lib/server,
 *   directly or through any module it loads.
 *
 * `$lib` resolves through tsconfig.boundaries.json (SvelteKit's default alias, so nothing generated is needed);
 * `unresolvable-local` makes a resolution failure an error, so a rule can never pass
 * only because an import went unresolved.
 */

/**
 * KNOWN EXCEPTIONS: the one place a boundary is relaxed. Each entry is an import that exists
 * today in a file another engineer is rewriting for issue #8; delete the entry with the import.
 * A listed pair is allowed only as a type-only import when `typeOnly` is set. Nothing else is.
 * [rule, from (regex), to (regex), typeOnly, why]
 */
const KNOWN_EXCEPTIONS = [
	['repositories-only-db-and-shared', '^src/lib/server/repositories/', '^src/lib/server/context[.]ts$', true,
		'repositories take the whole Ctx (type only); they need only its db/config part, to be typed from db/'],
	['repositories-only-db-and-shared', '^src/lib/server/repositories/', '^src/lib/server/actor[.]ts$', true,
		'the Caller type (who acts, type only) stamped on audit items and versions']
];

const server = '^src/lib/server/';
const browser = [
	'^src/lib/client/',
	'^src/lib/components/',
	'^src/routes/.*\\.svelte$',
	'^src/routes/(.*/|)[+](page|layout)[.]ts$'
];

/**
 * A forbidden rule, with the listed exceptions of that name carved out: the main rule skips the
 * excepted `from` files, and each of those files gets the same rule again minus its excepted
 * targets (and, for type-only exceptions, still forbidding a runtime import of them).
 */
function rule(name, comment, from, to) {
	const mine = KNOWN_EXCEPTIONS.filter(([n]) => n === name);
	const base = { name, comment, severity: 'error' };
	if (!mine.length) return [{ ...base, from, to }];
	const froms = [...new Set(mine.map(([, f]) => f))];
	// A from-pattern that extends another (a file inside an excepted folder) takes both lists.
	const within = (f, g) => f !== g && f.startsWith(g.replace(/\/$/, '/'));
	const pathNot = (x, more) => [...[x.pathNot ?? []].flat(), ...more];
	const out = [{ ...base, from: { ...from, pathNot: pathNot(from, froms) }, to }];
	for (const f of froms) {
		const here = mine.filter(([, g]) => g === f || within(f, g));
		const narrower = froms.filter((g) => within(g, f));
		const note = `${comment} [known exception: ${here.map((e) => e[4]).join('; ')}]`;
		const fromHere = { path: f, ...(narrower.length ? { pathNot: narrower } : {}) };
		out.push({ ...base, comment: note, from: fromHere, to: { ...to, pathNot: pathNot(to, here.map((e) => e[2])) } });
		for (const [, , t, typeOnly] of here) {
			if (typeOnly) out.push({ ...base, comment: `${note} (type-only)`, from: fromHere, to: { path: t, dependencyTypesNot: ['type-only'] } });
		}
	}
	return out;
}

module.exports = {
	forbidden: [
		...rule(
			'repositories-only-db-and-shared',
			'Repositories are plain storage: they import only db/, $lib/shared and packages, never services, auth, realtime or api.',
			{ path: '^src/lib/server/repositories/' },
			{ path: '^src/', pathNot: ['^src/lib/server/repositories/', '^src/lib/server/db/', '^src/lib/shared/'] }
		),
		...rule(
			'services-not-transport',
			'Services hold the hospital rules; they never import the transport layers api/, http/ or realtime/ internals.',
			{ path: '^src/lib/server/services/' },
			{ path: ['^src/lib/server/api/', '^src/lib/server/http/', '^src/lib/server/realtime/'] }
		),
		...rule(
			'shared-is-pure',
			'$lib/shared runs in the server and the browser: it imports nothing from $lib/server or $lib/client.',
			{ path: '^src/lib/shared/' },
			{ path: ['^src/lib/server/', '^src/lib/client/', '^src/lib/components/'] }
		),
		...rule(
			'browser-not-server',
			'Browser code (client/, components/, .svelte pages, +page.ts, +layout.ts) never imports $lib/server.',
			{ path: browser },
			{ path: server }
		),
		{
			name: 'browser-reaches-no-server',
			comment: 'Nor through another module: nothing the browser loads leads, import by import, to $lib/server.',
			severity: 'error',
			from: { path: browser },
			to: { path: server, reachable: true }
		},
		{
			name: 'unresolvable-local',
			comment: 'A relative or $lib import that does not resolve would slip past every rule above.',
			severity: 'error',
			from: { path: '^(src|worker|scripts)/' },
			to: { couldNotResolve: true, path: '^(\\.|\\$lib)', pathNot: '/\\$types$' }
		}
	],
	options: {
		doNotFollow: { path: 'node_modules' },
		exclude: { path: ['^\\.svelte-kit/', '^build/', 'node_modules'] },
		tsPreCompilationDeps: true,
		tsConfig: { fileName: 'tsconfig.boundaries.json' },
		enhancedResolveOptions: {
			exportsFields: ['exports'],
			conditionNames: ['import', 'require', 'node', 'default', 'types', 'svelte'],
			mainFields: ['module', 'main', 'types', 'typings'],
			extensions: ['.ts', '.js', '.svelte', '.json']
		},
		reporterOptions: { text: { highlightFocused: true } }
	}
};

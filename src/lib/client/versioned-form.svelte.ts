import { ApiError, messageOf } from './api';
import { subscribe } from './realtime.svelte';
import { formatMoment } from './format';
import type { RecordVersionEvent } from '$lib/shared/realtime';
import type { VersionConflictDetails } from '$lib/shared/errors';

/**
 * The one stale-copy guard for edit forms of versioned records (SPEC §5). It holds the
 * version the form was loaded at, listens to the record's room, and the moment a newer
 * version is announced says so (before Save). A save sends that version; a 409 keeps every
 * typed value. Reload takes the new version and keeps the user's text: fields only the
 * user changed stay as typed, fields both changed show the new value with the user's text
 * beside it (`unsaved`), so nothing typed is ever lost.
 */
export type FieldValue = string | boolean;
export type FormValues = Record<string, FieldValue>;

export type Snapshot<T extends FormValues> = {
	version: number;
	values: T;
	updatedBy?: string;
	updatedAt?: string;
};

export type FieldSpec = {
	label: string;
	/** The stored attribute name the server reports in `changedFields`, when it differs. */
	stored?: string;
};

export type VersionedFormOptions<T extends FormValues> = {
	/** e.g. `record:patient:<id>` */
	room: string;
	fields: { [K in keyof T]: FieldSpec };
	load: () => Promise<Snapshot<T>>;
	/** Sends `version` and only the changed fields; answers the record as now stored. */
	save: (version: number, changes: Partial<T>) => Promise<Snapshot<T>>;
	/** Client-side checks: field → message. The server checks again anyway. */
	validate?: (changes: Partial<T>, values: T) => Record<string, string>;
	/** Called after a successful save (e.g. to refresh the header's name). */
	afterSave?: (saved: Snapshot<T>) => void;
};

export type StaleNotice = {
	version: number;
	updatedBy: string;
	updatedAt: string | null;
	/** Labels of the fields that changed, as far as known. */
	fields: string[];
};

const same = (a: FieldValue | undefined, b: FieldValue | undefined) => (a ?? '') === (b ?? '');

export class VersionedForm<T extends FormValues> {
	/** What the inputs show and the user edits. */
	values = $state({} as T);
	/** The record as stored at `version`. */
	base = $state({} as T);
	version = $state(0);
	updatedBy = $state<string | undefined>(undefined);
	updatedAt = $state<string | undefined>(undefined);
	status = $state<'loading' | 'ready' | 'failed'>('loading');
	loadError = $state<string | null>(null);
	saving = $state(false);
	reloading = $state(false);
	/** A newer version exists than the one this form holds. */
	stale = $state<StaleNotice | null>(null);
	/** The server's 409 message after a stale save. */
	conflict = $state<string | null>(null);
	error = $state<string | null>(null);
	fieldErrors = $state<Record<string, string>>({});
	/** After a reload: the user's text for fields the newer version also changed. */
	unsaved = $state<Partial<T>>({});
	/** A calm status line: saved, reloaded. */
	notice = $state<string | null>(null);
	/** Live updates could not be switched on for this record. */
	liveProblem = $state<string | null>(null);

	readonly fields: VersionedFormOptions<T>['fields'];
	#opts: VersionedFormOptions<T>;
	#held: RecordVersionEvent[] = [];

	constructor(opts: VersionedFormOptions<T>) {
		this.#opts = opts;
		this.fields = opts.fields;
	}

	/** Fields whose input differs from the stored record. */
	get changes(): Partial<T> {
		const out: Partial<T> = {};
		for (const k of Object.keys(this.fields) as (keyof T)[]) {
			if (!same(this.values[k], this.base[k])) out[k] = this.values[k];
		}
		return out;
	}

	get dirty(): boolean {
		return Object.keys(this.changes).length > 0;
	}

	get busy(): boolean {
		return this.saving || this.reloading || this.status !== 'ready';
	}

	label(key: keyof T): string {
		return this.fields[key].label;
	}

	/** Listens first, then loads, so no version is missed in between. Returns the cleanup. */
	start(): () => void {
		const stop = subscribe(this.#opts.room, {
			onRecord: (e) => this.#heard(e),
			onResync: () => void this.#resync(),
			onRefused: (message) => {
				this.liveProblem = `Live updates are off for this record: ${message}`;
			}
		});
		void this.#load();
		return stop;
	}

	async submit(): Promise<boolean> {
		if (this.busy) return false;
		this.notice = null;
		this.error = null;
		this.fieldErrors = {};
		const changes = this.changes;
		if (Object.keys(changes).length === 0) {
			this.notice = 'Nothing to save: no field has changed.';
			return false;
		}
		const problems = this.#opts.validate?.(changes, this.values) ?? {};
		if (Object.keys(problems).length > 0) {
			this.fieldErrors = problems;
			this.error = 'Please correct the marked fields.';
			return false;
		}
		this.saving = true;
		try {
			const saved = await this.#opts.save(this.version, changes);
			this.#take(saved);
			this.values = { ...saved.values };
			this.unsaved = {};
			this.conflict = null;
			if (this.stale && this.stale.version <= saved.version) this.stale = null;
			this.notice = `Saved at ${formatMoment(saved.updatedAt ?? new Date().toISOString())}.`;
			this.#opts.afterSave?.(saved);
			return true;
		} catch (err) {
			if (err instanceof ApiError && err.code === 'VERSION_CONFLICT') {
				// The server's sentence names who and when; show its instant in local time.
				this.conflict = err.message.replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z/g, (iso) => formatMoment(iso));
				const d = err.details as Partial<VersionConflictDetails> | undefined;
				if (typeof d?.currentVersion === 'number' && d.currentVersion > this.version) {
					this.#markStale({
						version: d.currentVersion,
						updatedBy: d.updatedBy ?? 'someone else',
						updatedAt: d.updatedAt ?? null,
						fields: []
					});
				}
			} else if (err instanceof ApiError && err.status === 400) {
				this.fieldErrors = err.fieldErrors;
				this.error = err.message;
			} else {
				this.error = messageOf(err);
			}
			return false;
		} finally {
			this.saving = false;
			this.#release();
		}
	}

	/** Takes the newest version, keeping everything the user typed (see the class comment). */
	async reload(): Promise<void> {
		if (this.saving || this.reloading) return;
		this.reloading = true;
		this.error = null;
		try {
			const next = await this.#opts.load();
			const mine = this.values;
			const before = this.base;
			const shown = { ...next.values } as T;
			const kept: Partial<T> = {};
			for (const k of Object.keys(this.fields) as (keyof T)[]) {
				const edited = same(mine[k], before[k]) ? undefined : mine[k];
				const typed = edited ?? this.unsaved[k];
				if (typed === undefined || same(typed, next.values[k])) continue;
				// Only the user changed it: keep it in the input. Both changed: show theirs, keep ours beside.
				if (edited !== undefined && same(next.values[k], before[k])) shown[k] = edited;
				else kept[k] = typed as T[keyof T];
			}
			const by = next.updatedBy;
			this.#take(next);
			this.values = shown;
			this.unsaved = kept;
			this.conflict = null;
			this.fieldErrors = {};
			if (this.stale && this.stale.version <= next.version) this.stale = null;
			const n = Object.keys(kept).length;
			this.notice =
				`Loaded the latest copy${by ? `, last changed by ${by} at ${formatMoment(next.updatedAt)}` : ''}. ` +
				(n > 0
					? `Your unsaved text is shown under ${n === 1 ? 'the field' : `${n} fields`} that changed meanwhile.`
					: this.dirty
						? 'Your unsaved edits are still in the form.'
						: '');
		} catch (err) {
			this.error = messageOf(err);
		} finally {
			this.reloading = false;
			this.#release();
		}
	}

	/** Puts the user's kept text back into the input. */
	useMine(key: keyof T): void {
		const v = this.unsaved[key];
		if (v === undefined) return;
		this.values[key] = v as T[keyof T];
		this.#forget(key);
	}

	/** Drops the user's kept text for a field (the new value stays). */
	discardMine(key: keyof T): void {
		this.#forget(key);
	}

	#forget(key: keyof T) {
		const rest = { ...this.unsaved };
		delete rest[key];
		this.unsaved = rest;
	}

	async #load() {
		this.status = 'loading';
		this.loadError = null;
		try {
			const snap = await this.#opts.load();
			this.#take(snap);
			this.values = { ...snap.values };
			this.status = 'ready';
		} catch (err) {
			this.loadError = messageOf(err);
			this.status = 'failed';
		} finally {
			this.#release();
		}
	}

	#take(snap: Snapshot<T>) {
		this.base = { ...snap.values };
		this.version = snap.version;
		this.updatedBy = snap.updatedBy;
		this.updatedAt = snap.updatedAt;
	}

	#heard(e: RecordVersionEvent) {
		// While loading or saving the held version is about to change: decide afterwards.
		if (this.status !== 'ready' || this.saving || this.reloading) this.#held.push(e);
		else this.#consider(e);
	}

	#release() {
		if (this.status !== 'ready' || this.saving || this.reloading) return;
		const held = this.#held;
		this.#held = [];
		for (const e of held) this.#consider(e);
	}

	#consider(e: RecordVersionEvent) {
		if (e.version <= this.version) return;
		this.#markStale({ version: e.version, updatedBy: e.updatedBy, updatedAt: e.updatedAt, fields: this.#labels(e.changedFields) });
	}

	#markStale(n: StaleNotice) {
		const prev = this.stale;
		if (!prev) {
			this.stale = n;
			return;
		}
		const newer = n.version >= prev.version ? n : prev;
		this.stale = { ...newer, fields: [...new Set([...prev.fields, ...n.fields])] };
	}

	/** After a reconnect: if the record moved on while we were away, say so. */
	async #resync() {
		if (this.status !== 'ready') return;
		try {
			const snap = await this.#opts.load();
			if (snap.version <= this.version) return;
			const fields = (Object.keys(this.fields) as (keyof T)[])
				.filter((k) => !same(snap.values[k], this.base[k]))
				.map((k) => this.label(k));
			this.#markStale({
				version: snap.version,
				updatedBy: snap.updatedBy ?? 'someone else',
				updatedAt: snap.updatedAt ?? null,
				fields
			});
		} catch {
			/* the next save still checks the version */
		}
	}

	#labels(changed: string[]): string[] {
		const out: string[] = [];
		for (const name of changed) {
			for (const [key, spec] of Object.entries(this.fields) as [string, FieldSpec][]) {
				if ((spec.stored ?? key) === name && !out.includes(spec.label)) out.push(spec.label);
			}
		}
		return out;
	}
}

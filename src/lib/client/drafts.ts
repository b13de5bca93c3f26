/**
 * Unsent text kept per browser tab, so a reload or a stray click loses nothing: the chat
 * message being written, the visit record being typed. Drafts live in sessionStorage (this
 * tab only, gone when it closes), keyed by the signed-in user and the record, and every one
 * of them is dropped at logout and when the session ends (`drafts.clearAll()`).
 */
const PREFIX = 'medtrack:draft:';

export type DraftKind = 'chat' | 'visit';

/** One draft's storage key: whose it is, and for which conversation or record. */
export const draftKey = (userId: string, kind: DraftKind, id: string) => `${PREFIX}${userId}:${kind}:${id}`;

export type DraftStore = {
	read<T>(key: string): T | undefined;
	/** Keeps `value`; nothing to keep (undefined, '') removes the draft. */
	write(key: string, value: unknown): void;
	clear(key: string): void;
	/** Every draft of every user in this tab. */
	clearAll(): void;
};

/** A store over `storage` (read when used: none in a test or a locked-down browser). */
export function createDraftStore(storage: () => Storage | null): DraftStore {
	const store = () => {
		try {
			return storage();
		} catch {
			return null; // storage refused (privacy settings): drafts are simply not kept
		}
	};
	const clear = (key: string) => store()?.removeItem(key);
	return {
		read<T>(key: string): T | undefined {
			const raw = store()?.getItem(key);
			if (!raw) return undefined;
			try {
				return (JSON.parse(raw) as { value: T }).value;
			} catch {
				clear(key);
				return undefined;
			}
		},
		write(key, value) {
			if (value === undefined || value === '') return clear(key);
			try {
				store()?.setItem(key, JSON.stringify({ savedAt: new Date().toISOString(), value }));
			} catch {
				/* full: the text is still on screen, only the copy is missing */
			}
		},
		clear,
		clearAll() {
			const s = store();
			if (!s) return;
			const keys: string[] = [];
			for (let i = 0; i < s.length; i++) {
				const k = s.key(i);
				if (k?.startsWith(PREFIX)) keys.push(k);
			}
			for (const k of keys) s.removeItem(k);
		}
	};
}

/** The tab's drafts. */
export const drafts = createDraftStore(() => (typeof sessionStorage === 'undefined' ? null : sessionStorage));

// ——— Drafts of a versioned form ———

type Values = Record<string, string | boolean>;

/**
 * A form's unsaved edits with the stored values they were typed over, and any text kept
 * beside a field after a reload, so they can be put back over a record that moved on.
 */
export type FormDraft<T extends Values> = { edits: Partial<T>; over: Partial<T>; aside: Partial<T> };

/** What to keep of a form right now; undefined when nothing is unsaved. */
export function formDraft<T extends Values>(changes: Partial<T>, base: T, unsaved: Partial<T> = {}): FormDraft<T> | undefined {
	const keys = Object.keys(changes) as (keyof T)[];
	if (!keys.length && !Object.keys(unsaved).length) return undefined;
	const over: Partial<T> = {};
	for (const k of keys) over[k] = base[k];
	return { edits: { ...changes }, over, aside: { ...unsaved } };
}

/**
 * Puts a kept draft back over the record as stored now. An edit to a field nobody changed
 * meanwhile goes back into the input; where the stored value moved on, the new value stays
 * in the input and the kept text comes back beside it (`unsaved`), so a save never
 * overwrites someone else's change unseen.
 */
export function restoreDraft<T extends Values>(draft: FormDraft<T>, base: T): { values: T; unsaved: Partial<T>; restored: number } {
	const values = { ...base };
	const unsaved: Partial<T> = {};
	let restored = 0;
	for (const k of Object.keys(draft.edits ?? {}) as (keyof T)[]) {
		if (!(k in base)) continue;
		const mine = draft.edits[k] as T[keyof T];
		if (mine === base[k]) continue;
		if ((draft.over?.[k] ?? '') === (base[k] ?? '')) values[k] = mine;
		else unsaved[k] = mine;
		restored++;
	}
	for (const k of Object.keys(draft.aside ?? {}) as (keyof T)[]) {
		const kept = draft.aside[k] as T[keyof T];
		if (!(k in base) || k in unsaved || kept === values[k]) continue;
		unsaved[k] = kept;
		restored++;
	}
	return { values, unsaved, restored };
}

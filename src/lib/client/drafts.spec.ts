import { describe, expect, it } from 'vitest';
import { createDraftStore, draftKey, formDraft, restoreDraft } from './drafts';

/** sessionStorage as the browser has it, in memory. */
function memoryStorage(): Storage {
	const m = new Map<string, string>();
	return {
		get length() {
			return m.size;
		},
		key: (i) => [...m.keys()][i] ?? null,
		getItem: (k) => m.get(k) ?? null,
		setItem: (k, v) => void m.set(k, String(v)),
		removeItem: (k) => void m.delete(k),
		clear: () => m.clear()
	};
}

describe('drafts kept in the tab', () => {
	it('a draft written for one conversation is read back for the same user and conversation only', () => {
		const storage = memoryStorage();
		const drafts = createDraftStore(() => storage);
		drafts.write(draftKey('u1', 'chat', 'c1'), 'Is the clinic open on Sunday?');
		expect(drafts.read(draftKey('u1', 'chat', 'c1'))).toBe('Is the clinic open on Sunday?');
		expect(drafts.read(draftKey('u2', 'chat', 'c1'))).toBeUndefined();
		expect(drafts.read(draftKey('u1', 'chat', 'c2'))).toBeUndefined();
		expect(drafts.read(draftKey('u1', 'visit', 'c1'))).toBeUndefined();
	});

	it('writing empty text removes the draft', () => {
		const storage = memoryStorage();
		const drafts = createDraftStore(() => storage);
		const key = draftKey('u1', 'chat', 'c1');
		drafts.write(key, 'Hello');
		drafts.write(key, '');
		expect(drafts.read(key)).toBeUndefined();
		expect(storage.length).toBe(0);
	});

	it('clearing all (logout, session end) drops every draft of every user and leaves other keys alone', () => {
		const storage = memoryStorage();
		storage.setItem('something-else', 'kept');
		const drafts = createDraftStore(() => storage);
		drafts.write(draftKey('u1', 'chat', 'c1'), 'one');
		drafts.write(draftKey('u1', 'visit', 'mr_1'), { edits: { diagnosis: 'x' }, over: {}, aside: {} });
		drafts.write(draftKey('u2', 'chat', 'c9'), 'two');
		drafts.clearAll();
		expect(storage.length).toBe(1);
		expect(storage.getItem('something-else')).toBe('kept');
	});

	it('without storage (refused or absent) nothing is kept and nothing throws', () => {
		const refused = createDraftStore(() => {
			throw new Error('SecurityError');
		});
		refused.write('k', 'text');
		expect(refused.read('k')).toBeUndefined();
		refused.clearAll();
		const absent = createDraftStore(() => null);
		absent.write('k', 'text');
		expect(absent.read('k')).toBeUndefined();
	});

	it('a damaged entry reads as no draft and is removed', () => {
		const storage = memoryStorage();
		storage.setItem(draftKey('u1', 'chat', 'c1'), '{not json');
		const drafts = createDraftStore(() => storage);
		expect(drafts.read(draftKey('u1', 'chat', 'c1'))).toBeUndefined();
		expect(storage.length).toBe(0);
	});
});

describe('drafts of a versioned form', () => {
	type Visit = { diagnosis: string; treatment: string; notes: string };
	const stored: Visit = { diagnosis: '', treatment: 'Rest', notes: '' };

	it('nothing unsaved means nothing to keep', () => {
		expect(formDraft<Visit>({}, stored)).toBeUndefined();
	});

	it('typed text comes back into the inputs when the record has not changed meanwhile', () => {
		const draft = formDraft<Visit>({ diagnosis: 'Viral pharyngitis' }, stored)!;
		const { values, unsaved, restored } = restoreDraft(draft, stored);
		expect(values).toEqual({ diagnosis: 'Viral pharyngitis', treatment: 'Rest', notes: '' });
		expect(unsaved).toEqual({});
		expect(restored).toBe(1);
	});

	it('where someone saved the same field meanwhile, their value stays in the input and the typed text comes back beside it', () => {
		const draft = formDraft<Visit>({ diagnosis: 'Viral pharyngitis', notes: 'Review in a week' }, stored)!;
		const now: Visit = { diagnosis: 'Acute bronchitis', treatment: 'Rest', notes: '' };
		const { values, unsaved, restored } = restoreDraft(draft, now);
		expect(values).toEqual({ diagnosis: 'Acute bronchitis', treatment: 'Rest', notes: 'Review in a week' });
		expect(unsaved).toEqual({ diagnosis: 'Viral pharyngitis' });
		expect(restored).toBe(2);
	});

	it('text kept beside a field before the reload is kept beside it again', () => {
		const draft = formDraft<Visit>({}, stored, { treatment: 'Fluids and rest' })!;
		const { values, unsaved } = restoreDraft(draft, stored);
		expect(values).toEqual(stored);
		expect(unsaved).toEqual({ treatment: 'Fluids and rest' });
	});

	it('an edit that the stored record now equals is not restored as a change', () => {
		const draft = formDraft<Visit>({ diagnosis: 'Acute bronchitis' }, stored)!;
		const { unsaved, restored } = restoreDraft(draft, { ...stored, diagnosis: 'Acute bronchitis' });
		expect(unsaved).toEqual({});
		expect(restored).toBe(0);
	});
});

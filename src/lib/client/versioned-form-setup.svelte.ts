import { untrack } from 'svelte';
import { page } from '$app/state';
import { formatMoment } from './format';
import { confirmLeavingUnsaved, focusFirstError } from './forms';
import type { FormValues, VersionedForm } from './versioned-form.svelte';

/**
 * What every component holding one versioned form sets up: the form listens and loads for
 * as long as the component is shown (and again when `current` gives a new form), in-app
 * navigation asks before losing unsaved edits, and the submit and discard handlers. Call
 * during component setup; `current` reads the component's (usually `$derived`) form.
 */
export function useVersionedForm<T extends FormValues>(current: () => VersionedForm<T>) {
	$effect(() => {
		const f = current();
		return untrack(() => f.start());
	});
	confirmLeavingUnsaved(() => current().dirty);

	return {
		/** Saves; when the save is refused, the keyboard goes to the first field in error. */
		async onsubmit(e: SubmitEvent) {
			e.preventDefault();
			const el = e.currentTarget as HTMLFormElement;
			if (!(await current().submit())) void focusFirstError(el);
		},
		/** Puts every input back to the stored record and clears the errors. */
		discard() {
			const f = current();
			f.values = { ...f.base };
			f.fieldErrors = {};
			f.error = null;
		}
	};
}

/**
 * "Last changed by X at T" for a versioned record. Staff also see the version number they
 * hold (what a conflict is about); patients never see raw version numbers.
 */
export function changeLine(r: { version: number; updatedBy?: string; updatedAt?: string }): string {
	const changed = `changed by ${r.updatedBy ?? 'MedTrack'} at ${formatMoment(r.updatedAt)}`;
	return page.data.user?.role === 'patient' ? `Last ${changed}` : `Version ${r.version} · last ${changed}`;
}

/** The card description of a loaded versioned form: who changed it and when. */
export function versionLine<T extends FormValues>(form: VersionedForm<T>): string | undefined {
	return form.status === 'ready' ? changeLine(form) : undefined;
}

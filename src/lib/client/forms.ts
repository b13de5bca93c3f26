import { onMount, tick } from 'svelte';
import { beforeNavigate } from '$app/navigation';

/** After a refused submit, put the keyboard on the first field that needs attention. */
export async function focusFirstError(root: ParentNode | null | undefined = document): Promise<void> {
	await tick();
	(root?.querySelector('[aria-invalid="true"]') as HTMLElement | null)?.focus();
}

let leavingOnPurpose = false;

/** Logout and an ended session leave on purpose: no page asks about unsaved text then. */
export function leaveWithoutAsking(): void {
	leavingOnPurpose = true;
}

export type LeaveOptions = {
	/** The question asked before an in-app link leaves the page. */
	message?: string;
	/** Also ask the browser to warn before a reload, a typed address or closing the tab. */
	closingTab?: boolean;
};

/**
 * Asks before an in-app link leaves a form with unsaved edits (and, with `closingTab`, lets
 * the browser warn before the page itself goes). Call during component setup. Logout and an
 * ended session are never held up (`leaveWithoutAsking`).
 */
export function confirmLeavingUnsaved(isDirty: () => boolean, opts: LeaveOptions = {}): void {
	const message = opts.message ?? 'You have unsaved changes. Leave this page and lose them?';
	beforeNavigate(({ type, cancel }) => {
		if (type === 'leave' || leavingOnPurpose || !isDirty()) return;
		if (!confirm(message)) cancel();
	});
	if (!opts.closingTab) return;
	onMount(() => {
		const warn = (e: BeforeUnloadEvent) => {
			if (!leavingOnPurpose && isDirty()) e.preventDefault();
		};
		window.addEventListener('beforeunload', warn);
		return () => window.removeEventListener('beforeunload', warn);
	});
}

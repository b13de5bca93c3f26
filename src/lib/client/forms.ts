import { tick } from 'svelte';
import { beforeNavigate } from '$app/navigation';

/** After a refused submit, put the keyboard on the first field that needs attention. */
export async function focusFirstError(root: ParentNode | null | undefined = document): Promise<void> {
	await tick();
	(root?.querySelector('[aria-invalid="true"]') as HTMLElement | null)?.focus();
}

/**
 * Asks before an in-app link leaves a form with unsaved edits. Call during component
 * setup. Full page loads (logout, an ended session) are not held up.
 */
export function confirmLeavingUnsaved(isDirty: () => boolean): void {
	beforeNavigate(({ type, cancel }) => {
		if (type === 'leave' || !isDirty()) return;
		if (!confirm('You have unsaved changes. Leave this page and lose them?')) cancel();
	});
}

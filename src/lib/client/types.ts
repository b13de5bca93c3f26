export type { UserView, AuditEntry } from '$lib/shared/views';

export type Page<T> = { items: T[]; nextCursor: string | null };

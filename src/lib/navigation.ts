import { ROLE_HOME } from '$lib/shared/roles';
import { mayOpen, type SessionUser } from '$lib/shared/pages';

export type NavItem = { href: string; label: string };

/** The pages that exist today; each role sees those SPEC §2 lets it open. */
export function navFor(user: SessionUser): NavItem[] {
	const candidates: NavItem[] = [
		{ href: ROLE_HOME[user.role], label: 'Home' },
		{ href: '/patient/book', label: 'Book a visit' },
		{ href: '/patient/appointments', label: 'My appointments' },
		{ href: '/patient/records', label: 'Visit history' },
		{ href: '/doctor/queue', label: 'Live queue' },
		{ href: '/doctor/availability', label: 'My availability' },
		{ href: '/front-desk/board', label: 'Day board' },
		{ href: '/nurse/beds', label: 'Beds and ventilators' },
		{ href: '/chat', label: 'Chat' },
		{ href: '/notifications', label: 'Notifications' },
		{ href: '/doctors', label: 'Doctors' },
		{ href: '/profile', label: 'My profile' },
		{ href: '/patients', label: 'Patients' },
		{ href: '/admin/users', label: 'Users' },
		{ href: '/admin/outbox', label: 'Outbox' },
		{ href: '/admin/blood-bank', label: 'Blood bank' },
		{ href: '/pharmacy', label: 'Pharmacy' },
		{ href: '/admin/capacity', label: 'Capacity' },
		{ href: '/emergencies', label: 'Emergencies' },
		{ href: '/audit', label: 'Audit log' }
	];
	// A page that is the role's home (the pharmacist's /pharmacy) is listed once, as Home.
	return candidates.filter((item, i) => mayOpen(user, item.href) && (i === 0 || item.href !== candidates[0]!.href));
}

/** Whether `href` is the current page or a page under it (Home matches only itself). */
export function isCurrent(href: string, path: string, home: string): boolean {
	if (href === home) return path === home;
	return path === href || path.startsWith(`${href}/`);
}

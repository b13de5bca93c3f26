import crypto from 'node:crypto';
import type { Ctx } from '../context';
import type { Caller } from '../actor';
import { AppError, notFound } from '../errors';
import { authorize } from '../auth/guard';
import { transactNamed } from '../db/transaction';
import { actorStamp, conflictError, stampNew, versionedUpdate } from '../db/versioned';
import { auditPut } from './audit';
import { announce, notificationPut } from './notifications';
import { outboxPut } from './outbox';
import { bloodGroupMismatch, requirePatient, stockChanged, unitCreationItems, unitView } from './blood-bank';
import { getPatient } from '../repositories/patients';
import { getUser } from '../repositories/users';
import {
	NEVER_DONATED,
	donationRequestCount,
	donationRequestPut,
	donorAskedClaimPut,
	donorNoticeClaimPut,
	donorPut,
	donorsOfGroup,
	eligibleDonors,
	getDonationRequest,
	getDonor,
	openDonationRequests,
	stockIncrement,
	type DonationRequestItem,
	type DonorItem
} from '../repositories/blood-bank';
import {
	COMPONENT_LABEL,
	DEFAULT_THRESHOLD,
	DONATION_INTERVAL_DAYS,
	DONOR_ASK_WINDOW_DAYS,
	eligibleFrom,
	stockKey,
	type BloodComponent,
	type BloodGroup,
	type BloodUnitView,
	type DonationRequestView,
	type DonorView
} from '$lib/shared/blood';
import type { TransactItem } from '../db/transaction';

/**
 * Blood donors (SPEC §3): a patient signs up with a group, a last donation date and consent;
 * an administrator's donation request for a group × component notifies every consenting
 * donor of that group who has not given in the last 90 days (once per request and donor);
 * a verified donation records its units and the donor's new last donation, in one transaction.
 */
const todayUtc = () => new Date().toISOString().slice(0, 10);

function daysBefore(day: string, n: number): string {
	const d = new Date(`${day}T00:00:00Z`);
	d.setUTCDate(d.getUTCDate() - n);
	return d.toISOString().slice(0, 10);
}

function donorView(d: DonorItem): DonorView {
	const last = d.last_donation_on === NEVER_DONATED ? undefined : d.last_donation_on;
	return {
		patientId: d.id,
		version: d.version,
		name: d.name,
		bloodGroup: d.blood_group,
		...(last ? { lastDonationOn: last } : {}),
		consent: d.consent,
		eligibleFrom: eligibleFrom(last) < '1900-01-01' ? todayUtc() : eligibleFrom(last)
	};
}

function requestView(r: DonationRequestItem): DonationRequestView {
	return {
		id: r.id,
		version: r.version,
		bloodGroup: r.blood_group,
		component: r.component,
		...(r.note ? { note: r.note } : {}),
		status: r.status,
		notified: r.notified ?? 0,
		donations: r.donations ?? 0,
		createdAt: r.created_at,
		createdBy: r.created_by_name
	};
}

export async function readOwnDonor(ctx: Ctx, caller: Caller): Promise<DonorView | null> {
	const patientId = await requirePatient(ctx, caller);
	const d = await getDonor(ctx, patientId);
	return d ? donorView(d) : null;
}

/** A patient signs up as a donor, or changes their entry (versioned once it exists). */
export async function signUpDonor(
	ctx: Ctx,
	caller: Caller,
	input: { version?: number; bloodGroup: BloodGroup; lastDonationOn?: string; consent: boolean }
): Promise<DonorView> {
	const patientId = await requirePatient(ctx, caller);
	const patient = await getPatient(ctx, patientId);
	if (!patient) throw notFound('Your patient record');
	const existing = await getDonor(ctx, patientId);
	const last = input.lastDonationOn ?? NEVER_DONATED;
	if (!existing) {
		const donor = stampNew(caller, {
			id: patientId,
			user_id: caller.actor!.id,
			name: patient.name,
			blood_group: input.bloodGroup,
			...(input.consent ? { donor_group: input.bloodGroup } : {}),
			last_donation_on: last,
			consent: input.consent
		}) as DonorItem;
		const outcome = await transactNamed(ctx, {
			donor: donorPut(ctx, donor),
			audit: auditPut(ctx, caller, { action: 'create', resourceType: 'donor', resourceId: patientId, changedFields: ['blood_group', 'last_donation_on', 'consent'] })
		});
		if (!outcome.ok) throw conflictError('donor', patientId, 0, await getDonor(ctx, patientId));
		return donorView(donor);
	}
	if (input.version === undefined) throw conflictError('donor', patientId, 0, existing);
	await versionedUpdate(ctx, caller, {
		table: 'donors',
		pkName: 'id',
		id: patientId,
		expectedVersion: input.version,
		set: { blood_group: input.bloodGroup, last_donation_on: last, consent: input.consent, ...(input.consent ? { donor_group: input.bloodGroup } : {}) },
		remove: input.consent ? [] : ['donor_group'],
		resourceType: 'donor',
		silent: true
	});
	return donorView((await getDonor(ctx, patientId))!);
}

export async function listDonors(ctx: Ctx, caller: Caller, group: BloodGroup): Promise<DonorView[]> {
	await authorize(ctx, caller, 'blood_bank', 'write');
	return (await donorsOfGroup(ctx, group)).map(donorView);
}

export async function listDonationRequests(ctx: Ctx, caller: Caller): Promise<DonationRequestView[]> {
	await authorize(ctx, caller, 'blood_bank', 'write');
	return (await openDonationRequests(ctx)).map(requestView);
}

/**
 * An administrator asks for donations of a group × component: the request and its audit
 * entry commit first; then each matching donor (consenting, same group, last gave at least
 * 90 days ago or never) gets an in-app notification and an SMS/e-mail, each in a
 * transaction with a claim row so a donor is asked once per request.
 */
export async function createDonationRequest(
	ctx: Ctx,
	caller: Caller,
	input: { bloodGroup: BloodGroup; component: BloodComponent; note?: string }
): Promise<{ request: DonationRequestView; notified: number }> {
	await authorize(ctx, caller, 'blood_bank', 'write');
	const request = stampNew(caller, {
		id: crypto.randomUUID(),
		blood_group: input.bloodGroup,
		component: input.component,
		...(input.note ? { note: input.note } : {}),
		status: 'open' as const,
		notified: 0,
		donations: 0
	}) as DonationRequestItem;
	request.created_by_name = caller.actor?.name ?? 'MedTrack';
	const created = await transactNamed(ctx, {
		request: donationRequestPut(ctx, request),
		audit: auditPut(ctx, caller, { action: 'create', resourceType: 'donation_request', resourceId: request.id, changedFields: ['blood_group', 'component', 'note'] })
	});
	if (!created.ok) throw new AppError(409, 'VERSION_CONFLICT', 'The request could not be recorded; try again.');

	const cutoff = daysBefore(todayUtc(), DONATION_INTERVAL_DAYS);
	const donors = await eligibleDonors(ctx, input.bloodGroup, cutoff);
	const label = `${input.bloodGroup} ${COMPONENT_LABEL[input.component].toLowerCase()}`;
	let notified = 0;
	for (const d of donors) {
		const user = await getUser(ctx, d.user_id);
		if (!user?.active) continue;
		const now = new Date().toISOString();
		const notice = notificationPut(ctx, d.user_id, {
			kind: 'donation_request',
			title: `Blood donation needed: ${input.bloodGroup}`,
			body: `The hospital needs ${label} donations${input.note ? `: ${input.note}` : ''}. You signed up as a ${d.blood_group} donor; please contact the blood bank to book a donation.`,
			relatedType: 'donation_request',
			relatedId: request.id
		});
		const outcome = await transactNamed(ctx, {
			claim: donorNoticeClaimPut(ctx, request.id, d.id, now),
			// However many requests an administrator sends, a donor hears at most one a week.
			asked: donorAskedClaimPut(ctx, d.id, Math.floor(Date.now() / 1000), DONOR_ASK_WINDOW_DAYS * 86_400),
			notice: notice.item,
			message: outboxPut(ctx, {
				kind: 'donation_request',
				channel: user.phone ? 'sms' : 'email',
				userId: d.user_id,
				relatedId: request.id,
				subject: `MedTrack: ${input.bloodGroup} blood donation needed`,
				body: `MedTrack: the hospital needs ${label} donations. As a registered ${d.blood_group} donor, please contact the blood bank to book.`
			}),
			count: donationRequestCount(ctx, request.id, 'notified', 1)
		});
		if (!outcome.ok) continue;
		announce(ctx, d.user_id, notice.event);
		notified++;
	}
	request.notified = notified;
	return { request: requestView(request), notified };
}

/**
 * A verified donation (admin): its bags become available units, the counters rise, and the
 * donor's last donation moves to the collection date, in one transaction with the audit
 * entry; then the counters' crossing states are settled (a recovery clears an alert live).
 */
export async function verifyDonation(
	ctx: Ctx,
	caller: Caller,
	input: { donorId: string; bloodGroup: BloodGroup; requestId?: string; collectedAt: string; units: { component: BloodComponent; bagNumber: string }[] }
): Promise<{ units: BloodUnitView[]; donor: DonorView }> {
	await authorize(ctx, caller, 'blood_bank', 'write');
	const donor = await getDonor(ctx, input.donorId);
	if (!donor) throw notFound('This donor');
	// The donor's entry is what they told us; a bag is labelled with the group the blood bank
	// typed. Should they differ, nothing is recorded (the donor update below is conditioned on
	// the version read, so an entry changed meanwhile is a 409 too).
	if (input.bloodGroup !== donor.blood_group) throw bloodGroupMismatch(donor.name, donor.blood_group, input.bloodGroup);
	if (input.requestId && !(await getDonationRequest(ctx, input.requestId))) throw notFound('This donation request');
	const created = input.units.map((u) =>
		unitCreationItems(ctx, caller, { bloodGroup: donor.blood_group, component: u.component, bagNumber: u.bagNumber, collectedAt: input.collectedAt, donorId: donor.id })
	);
	const stamp = actorStamp(caller);
	const perComponent = new Map<BloodComponent, number>();
	for (const c of created) if (c.unit.status === 'available') perComponent.set(c.unit.component, (perComponent.get(c.unit.component) ?? 0) + 1);
	const bags: TransactItem[] = created.map((c) => c.items[0]!);
	const units: TransactItem[] = created.map((c) => c.items[1]!);
	const stocks: TransactItem[] = [...perComponent].map(([component, by]) =>
		stockIncrement(ctx, { key: stockKey(donor.blood_group, component), group: donor.blood_group, component, by, defaultThreshold: DEFAULT_THRESHOLD }, stamp)
	);
	const day = input.collectedAt.slice(0, 10);
	await versionedUpdate(ctx, caller, {
		table: 'donors',
		pkName: 'id',
		id: donor.id,
		expectedVersion: donor.version,
		set: { last_donation_on: day > donor.last_donation_on ? day : donor.last_donation_on },
		resourceType: 'donor',
		audit: { action: 'donation' },
		extra: { bags, units, stocks, request: input.requestId ? donationRequestCount(ctx, input.requestId, 'donations', 1) : undefined },
		onFailed: (name) =>
			name === 'bags'
				? new AppError(409, 'ALREADY_EXISTS', 'One of these bag numbers is already recorded. Check the labels: every bag has its own number.', [
						{ field: 'units', message: 'a bag number is already recorded' }
					])
				: undefined,
		silent: true
	});
	for (const component of perComponent.keys()) await stockChanged(ctx, caller, donor.blood_group, component);
	return { units: created.map((c) => unitView(c.unit)), donor: donorView((await getDonor(ctx, donor.id))!) };
}

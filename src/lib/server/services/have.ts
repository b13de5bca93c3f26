import type { Ctx } from '../context';
import type { Caller } from '../actor';
import { readHospital } from './hospitals';
import type { HospitalView } from '$lib/shared/hospitals';

/**
 * A hospital's availability as an OASIS EDXL-HAVE 1.0 document (Hospital AVailability Exchange):
 * the organisation's name (CIQ xNL 3, with our id as `xnl:ID`) and location (GML point), the
 * emergency department's EMS traffic status, bed capacity by type (general beds as
 * MedicalSurgical, ICU beds as AdultICU), ventilators as a comment of the resources status (HAVE
 * 1.0 has no equipment counts), and the update time. It validates against the subset schema in
 * schemas/edxl-have/ (tests/integration/have.test.ts). Every text value is escaped; numbers are
 * integers we count ourselves.
 */
export function escapeXml(s: string): string {
	return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** Normal while general beds are free; Advisory under 10 % free; Closed with none; NotApplicable when the site counts no general beds. */
export function emsTrafficStatus(h: HospitalView): 'Normal' | 'Advisory' | 'Closed' | 'NotApplicable' {
	const g = h.resources.general_beds;
	if (g.total <= 0) return 'NotApplicable';
	if (g.available <= 0) return 'Closed';
	return g.total > 0 && g.available / g.total < 0.1 ? 'Advisory' : 'Normal';
}

function bed(type: string, c: { available: number; total: number }): string {
	return [
		'      <BedCapacity>',
		`        <BedType>${type}</BedType>`,
		'        <Capacity>',
		`          <CapacityStatus>${c.available > 0 ? 'Vacant/Available' : 'NotAvailable'}</CapacityStatus>`,
		`          <AvailableCount>${c.available}</AvailableCount>`,
		`          <BaselineCount>${c.total}</BaselineCount>`,
		'        </Capacity>',
		'      </BedCapacity>'
	].join('\n');
}

export function haveDocument(h: HospitalView): string {
	const r = h.resources;
	return [
		'<?xml version="1.0" encoding="UTF-8"?>',
		'<HospitalStatus xmlns="urn:oasis:names:tc:emergency:EDXL:HAVE:1.0" xmlns:xnl="urn:oasis:names:tc:ciq:xnl:3" xmlns:gml="http://www.opengis.net/gml">',
		'  <Hospital>',
		'    <Organization>',
		'      <OrganizationInformation>',
		`        <xnl:OrganisationName xnl:ID="${escapeXml(h.id)}"><xnl:NameElement>${escapeXml(h.name)}</xnl:NameElement></xnl:OrganisationName>`,
		'      </OrganizationInformation>',
		`      <OrganizationGeoLocation><gml:Point><gml:pos>${h.latitude} ${h.longitude}</gml:pos></gml:Point></OrganizationGeoLocation>`,
		'    </Organization>',
		'    <EmergencyDepartmentStatus>',
		`      <EMSTraffic><EMSTrafficStatus>${emsTrafficStatus(h)}</EMSTrafficStatus></EMSTraffic>`,
		'    </EmergencyDepartmentStatus>',
		'    <HospitalBedCapacityStatus>',
		bed('MedicalSurgical', r.general_beds),
		bed('AdultICU', r.icu_beds),
		'    </HospitalBedCapacityStatus>',
		'    <HospitalResourcesStatus>',
		`      <CommentText>Ventilators: ${r.ventilators.available} available of ${r.ventilators.total}</CommentText>`,
		'    </HospitalResourcesStatus>',
		`    <LastUpdateTime>${escapeXml(h.updatedAt)}</LastUpdateTime>`,
		'  </Hospital>',
		'</HospitalStatus>',
		''
	].join('\n');
}

export async function haveXml(ctx: Ctx, caller: Caller, id: string): Promise<string> {
	return haveDocument(await readHospital(ctx, caller, id));
}

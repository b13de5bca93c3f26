import type { Ctx } from '../context';
import type { Caller } from '../actor';
import { readHospital } from './hospitals';
import type { HospitalView } from '$lib/shared/hospitals';

/**
 * A hospital's availability in the OASIS EDXL-HAVE 1.0 shape (Hospital AVailability Exchange):
 * bed capacity by type (general beds as MedicalSurgical, ICU beds as AdultICU), the emergency
 * department's EMS traffic status, ventilators as a resource, and the update time. Every text
 * value is escaped; numbers are integers we count ourselves.
 */
export function escapeXml(s: string): string {
	return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** Normal while general beds are free; Advisory under 10 % free; Closed with none. */
export function emsTrafficStatus(h: HospitalView): 'Normal' | 'Advisory' | 'Closed' {
	const g = h.resources.general_beds;
	if (g.available <= 0) return 'Closed';
	return g.total > 0 && g.available / g.total < 0.1 ? 'Advisory' : 'Normal';
}

function bed(type: string, c: { available: number; total: number }): string {
	return [
		'      <BedCapacity>',
		`        <BedType>${type}</BedType>`,
		'        <Capacity>',
		'          <CapacityStatus>Vacant/Available</CapacityStatus>',
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
		'<HospitalStatus xmlns="urn:oasis:names:tc:emergency:EDXL:HAVE:1.0" xmlns:xnl="urn:oasis:names:tc:ciq:xsdschema:xNL:2.0" xmlns:gml="http://www.opengis.net/gml">',
		'  <Hospital>',
		'    <Organization>',
		'      <OrganizationInformation>',
		`        <xnl:OrganisationName><xnl:NameElement>${escapeXml(h.name)}</xnl:NameElement></xnl:OrganisationName>`,
		'      </OrganizationInformation>',
		`      <OrganizationID>${escapeXml(h.id)}</OrganizationID>`,
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
		'      <Equipment>',
		'        <EquipmentType>Ventilators</EquipmentType>',
		`        <AvailableCount>${r.ventilators.available}</AvailableCount>`,
		`        <BaselineCount>${r.ventilators.total}</BaselineCount>`,
		'      </Equipment>',
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

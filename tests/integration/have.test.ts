import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, tieToHospital, type TestApp, type TestUser } from '../fixtures/app';

/**
 * `GET /api/hospitals/:id/have.xml` checked against the structure of OASIS EDXL-HAVE 1.0: the
 * subset schema in schemas/edxl-have/ (written from the standard, see its header), validated by
 * the JDK's W3C XML Schema validator (tests/fixtures/XsdValidate.java; Java is already required).
 * The check is shown to bite: documents with an element out of place, an unknown code or a
 * wrong namespace are rejected.
 */
const run = promisify(execFile);
const SCHEMA = path.resolve('schemas/edxl-have/edxl-have-1.0-subset.xsd');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'have-'));

let app: TestApp;
let admin: TestUser;
let nurse: TestUser;

beforeAll(async () => {
	app = await startTestApp({ HOSPITAL_TIMEZONE: 'UTC' });
	[admin, nurse] = await Promise.all([app.userOf('admin'), app.userOf('nurse')]);
});
afterAll(async () => {
	fs.rmSync(dir, { recursive: true, force: true });
	await app?.close();
});

let n = 0;
/** One JVM for all the documents given: one verdict line each ("valid" or "invalid: line N: …"). */
async function validateAll(xmls: string[]): Promise<string[]> {
	const files = xmls.map((xml) => {
		const file = path.join(dir, `doc-${++n}.xml`);
		fs.writeFileSync(file, xml);
		return file;
	});
	let stdout: string;
	try {
		stdout = (await run('java', [path.resolve('tests/fixtures/XsdValidate.java'), SCHEMA, ...files], { timeout: 60_000 })).stdout;
	} catch (err) {
		stdout = String((err as { stdout?: string }).stdout ?? '');
		if (!stdout) throw err;
	}
	const lines = stdout.trim().split('\n');
	expect(lines.length).toBe(xmls.length);
	return lines;
}

async function haveOf(name: string, totals: { general_beds: number; icu_beds: number; ventilators: number }) {
	const r = await admin.api.post('/api/hospitals', {
		name,
		latitude: 51.5072,
		longitude: -0.1276,
		departments: ['Emergency'],
		resources: { general_beds: { total: totals.general_beds }, icu_beds: { total: totals.icu_beds }, ventilators: { total: totals.ventilators } }
	});
	expect(r.status).toBe(201);
	const res = await fetch(`${app.url}/api/hospitals/${r.body.hospital.id}/have.xml`, { headers: { cookie: nurse.api.cookie! } });
	expect(res.status).toBe(200);
	return { hospital: r.body.hospital, xml: await res.text() };
}

describe('EDXL-HAVE 1.0', () => {
	it('the document validates against the subset schema, with a name that needs escaping and every traffic status we emit', async () => {
		const open = await haveOf(`St "Anne's" <Heart> & Lung`, { general_beds: 12, icu_beds: 5, ventilators: 4 });
		expect(open.xml).toContain('<EMSTrafficStatus>Normal</EMSTrafficStatus>');
		expect(open.xml).toContain('xmlns:xnl="urn:oasis:names:tc:ciq:xnl:3"');
		expect(open.xml).toContain('<CommentText>Ventilators: 4 available of 4</CommentText>');

		const none = await haveOf('No Beds Counted', { general_beds: 0, icu_beds: 0, ventilators: 0 });
		expect(none.xml).toContain('<EMSTrafficStatus>NotApplicable</EMSTrafficStatus>');
		expect(none.xml).toContain('<CapacityStatus>NotAvailable</CapacityStatus>');

		const full = await haveOf('Full House', { general_beds: 1, icu_beds: 1, ventilators: 1 });
		// the nurse works there: only its own staff change a hospital's beds
		await tieToHospital(admin, nurse, full.hospital.id);
		const occupied = await nurse.api.post(`/api/hospitals/${full.hospital.id}/beds`, { version: 1, resource: 'general_beds', action: 'occupy', count: 1 });
		expect(occupied.status, JSON.stringify(occupied.body)).toBe(200);
		const after = await (await fetch(`${app.url}/api/hospitals/${full.hospital.id}/have.xml`, { headers: { cookie: nurse.api.cookie! } })).text();
		expect(after).toContain('<EMSTrafficStatus>Closed</EMSTrafficStatus>');
		expect(await validateAll([open.xml, none.xml, after])).toEqual(['valid', 'valid', 'valid']);
	});

	it('the check bites: the old shape (Equipment in HospitalResourcesStatus, OrganizationID, xNL 2.0), an unknown code or a wrong order are rejected', async () => {
		const { xml } = await haveOf('Bite Hospital', { general_beds: 10, icu_beds: 2, ventilators: 2 });
		const cases: [string, string][] = [
			['Equipment', xml.replace(/<CommentText>Ventilators[^<]*<\/CommentText>/, '<Equipment><EquipmentType>Ventilators</EquipmentType></Equipment>')],
			['OrganizationID', xml.replace('</OrganizationInformation>', '</OrganizationInformation><OrganizationID>x</OrganizationID>')],
			['xNL 2.0', xml.replace('urn:oasis:names:tc:ciq:xnl:3', 'urn:oasis:names:tc:ciq:xsdschema:xNL:2.0')],
			['Unknown', xml.replace('<EMSTrafficStatus>Normal</EMSTrafficStatus>', '<EMSTrafficStatus>Unknown</EMSTrafficStatus>')],
			['order', xml.replace(/(<LastUpdateTime>[^<]*<\/LastUpdateTime>)([\s\S]*?)(<\/Hospital>)/, '$2$3').replace('<Hospital>', `<Hospital>${/<LastUpdateTime>[^<]*<\/LastUpdateTime>/.exec(xml)![0]}`)],
			['negative count', xml.replace(/<AvailableCount>\d+<\/AvailableCount>/, '<AvailableCount>-1</AvailableCount>')]
		];
		for (const [what, doc] of cases) expect(doc, what).not.toBe(xml);
		const verdicts = await validateAll([xml, ...cases.map(([, doc]) => doc)]);
		expect(verdicts[0]).toBe('valid');
		verdicts.slice(1).forEach((v, i) => expect(v, cases[i]![0]).toMatch(/^invalid: line \d+: cvc-/));
	});
});

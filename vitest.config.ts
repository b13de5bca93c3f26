import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vitest/config';

export default defineConfig({
	plugins: [sveltekit()],
	test: {
		projects: [
			{
				extends: true,
				test: {
					name: 'integration',
					include: ['tests/integration/**/*.test.ts', 'src/**/*.spec.ts', 'scripts/**/*.spec.ts', 'worker/**/*.spec.ts'],
					globalSetup: ['tests/fixtures/global-server.ts', 'tests/fixtures/global-dynamodb.ts'],
					testTimeout: 60_000,
					hookTimeout: 120_000,
					pool: 'forks'
				}
			},
			{
				extends: true,
				test: {
					name: 'e2e',
					include: ['tests/e2e/**/*.test.ts'],
					globalSetup: ['tests/fixtures/global-tools.ts', 'tests/fixtures/global-dynamodb.ts', 'tests/fixtures/global-build.ts'],
					testTimeout: 90_000,
					hookTimeout: 180_000,
					fileParallelism: false,
					pool: 'forks'
				}
			}
		]
	}
});

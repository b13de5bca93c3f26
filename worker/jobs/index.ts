import type { Job } from '../scheduler';
import { reminders } from './reminders';
import { missed } from './missed';
import { outbox } from './outbox';
import { housekeeping } from './housekeeping';
import { pharmacyAlerts } from './pharmacy-alerts';
import { bloodStock } from './blood-stock';
import { analyticsRebuild } from './analytics-rebuild';
import { searchIndex } from './search-index';

/** Every job the worker runs, by name (`npm run worker -- --once <name>`). */
export const JOBS: Job[] = [reminders, missed, outbox, housekeeping, pharmacyAlerts, bloodStock, analyticsRebuild, searchIndex];

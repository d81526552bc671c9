// The interactions this server offers, each a framework-free handler. src/http routes HTTP
// requests here; the CapabilityStatement lists exactly these.
import { create } from './create.ts';
import { remove } from './delete.ts';
import { history } from './history.ts';
import { patch } from './patch.ts';
import { read, vread } from './read.ts';
import type { Handler } from './types.ts';
import { update } from './update.ts';
import { searchSystem, searchType } from './search.ts';

export interface Interaction {
  code: string;
  level: 'instance' | 'type' | 'system';
  handler: Handler;
}

export const INTERACTIONS: Interaction[] = [
  { code: 'read', level: 'instance', handler: read },
  { code: 'vread', level: 'instance', handler: vread },
  { code: 'update', level: 'instance', handler: update },
  { code: 'patch', level: 'instance', handler: patch },
  { code: 'delete', level: 'instance', handler: remove },
  { code: 'history-instance', level: 'instance', handler: history },
  { code: 'history-type', level: 'type', handler: history },
  { code: 'create', level: 'type', handler: create },
  { code: 'search-type', level: 'type', handler: searchType },
  { code: 'history-system', level: 'system', handler: history },
  { code: 'search-system', level: 'system', handler: searchSystem },
];

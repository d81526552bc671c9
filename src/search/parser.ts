// The server's one search parser, built at start-up (app.ts) from the parameter registry, the
// terminology and the configured limits. Every caller that reads a search query — type, system
// and compartment searches, the criteria of conditional interactions and of a transaction's
// conditional references, operations — parses through it, so a modifier (`:in`, `:below`, …)
// means the same, and is refused the same, wherever a query is written.
import { badRequest } from '../fhir/errors.ts';
import { TerminologyError, type Terminology } from '../terminology/service.ts';
import type { ModifierServices } from './modifiers.ts';
import { parseSearch, type ParsedSearch } from './parse.ts';
import type { SearchParamRegistry } from './registry.ts';

export interface SearchLimits {
  defaultCount: number;
  maxCount: number;
  /** --max-search-values */
  maxSearchValues: number;
  /** --max-search-parameters */
  maxSearchParameters: number;
}

export interface SearchRequest {
  types: string[];
  query: Record<string, string[]>;
  /** the base URL the client used: references to it are local */
  baseUrl: string;
  /** unknown or unsupported parameters are errors (Prefer: handling=strict, conditions) */
  strict: boolean;
  /** the page size when the query has no _count, and the most it may ask (default: the limits') */
  count?: { default: number; max: number };
}

/** The modifiers' view of the terminology: a value set's codes for :in and :not-in (a value set
 * the server does not hold, or too large to expand, is a 400), a hierarchy for :below and :above. */
export function searchServices(registry: SearchParamRegistry, terminology: Terminology): ModifierServices {
  return {
    registry,
    valueSetCodes: (url) => {
      try {
        return terminology.searchMembers(url);
      } catch (err) {
        if (err instanceof TerminologyError) throw badRequest(`:in/:not-in: ${err.message}`, err.kind === 'not-found' ? 'not-found' : 'too-costly');
        throw err;
      }
    },
    hierarchy: (system, code, direction) => terminology.related(system, code, direction),
  };
}

export class SearchParser {
  readonly services: ModifierServices;
  private readonly limits: SearchLimits;

  constructor(services: ModifierServices, limits: SearchLimits) {
    this.services = services;
    this.limits = limits;
  }

  parse(request: SearchRequest): ParsedSearch {
    return parseSearch({
      types: request.types,
      query: request.query,
      services: this.services,
      baseUrl: request.baseUrl,
      defaultCount: request.count?.default ?? this.limits.defaultCount,
      maxCount: request.count?.max ?? this.limits.maxCount,
      maxValues: this.limits.maxSearchValues,
      maxParameters: this.limits.maxSearchParameters,
      strict: request.strict,
    });
  }
}

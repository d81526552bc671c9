// ReferralServiceRequest: a community-based care referral of a migrant, possibly across a
// border: its category from our value set, requester and performer organisations, reason,
// priority, interpreter need and supporting information.
import { cs, sd, vs } from '../src/ig/canonical.ts';
import { el, ext, profile, ref, required } from './define.ts';

export const referralServiceRequest = profile('referral-service-request', 'ReferralServiceRequest', 'Migrant care referral', 'ServiceRequest',
  'A referral of a migrant to community-based care (primary care, mental health and psychosocial support, maternal and child health, vaccination, TB follow-up, chronic disease, social services, interpreting), between organisations that may be in different countries.', [
    el('ServiceRequest', { constraint: [{ key: 'mig-ref-1', severity: 'error', human: 'A referral gives its reason, coded or as a reference', expression: 'reasonCode.exists() or reasonReference.exists()', source: sd('referral-service-request') }] }),
    el('ServiceRequest.extension:interpreterNeed', { max: '1', type: ext(sd('interpreter-need')), mustSupport: true }),
    el('ServiceRequest.extension:crossBorder', { max: '1', type: ext(sd('cross-border-referral')) }),
    el('ServiceRequest.category', { min: 1, slicing: { discriminator: [{ type: 'pattern', path: '$this' }], ordered: false, rules: 'open' } }),
    el('ServiceRequest.category:referralCategory', { min: 1, max: '1', patternCodeableConcept: { coding: [{ system: cs('referral-category') }] }, binding: required(vs('referral-category')), mustSupport: true }),
    el('ServiceRequest.priority', { min: 1 }),
    el('ServiceRequest.subject', { type: ref(sd('migrant-patient')) }),
    el('ServiceRequest.authoredOn', { min: 1 }),
    el('ServiceRequest.requester', { min: 1, type: ref('Organization', 'PractitionerRole') }),
    el('ServiceRequest.performer', { min: 1, type: ref('Organization', 'HealthcareService', 'PractitionerRole') }),
    el('ServiceRequest.supportingInfo', { mustSupport: true, short: 'Screening results, questionnaire responses, patient summaries' }),
  ]);

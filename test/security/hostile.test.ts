// The hostile-input suite: malformed and hostile JSON, bodies that are not UTF-8 or are
// compressed, SQL and MongoDB operator injection in every search parameter type, malformed
// search values, searches past the size limits (on both engines), path traversal in ids, odd
// methods and headers, forged tokens and scope escalation; over a real socket, what only Node's
// HTTP parser sees (malformed request lines and headers, 431, Content-Length mismatch,
// Transfer-Encoding oddities, CONNECT) and slow clients. Every case must get a 4xx
// OperationOutcome as application/fhir+json (or, for a search value that is merely odd, a
// normal 200 searchset that matches nothing it should not), the server keeps serving, and a
// checksum of the stored data is the same afterwards.
import t from 'tap';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { testConfig } from '../../src/config.ts';
import { writeClient } from '../../src/auth/clients.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import type { ResourceStore } from '../../src/store/types.ts';
import { MingoSearchStore } from '../helpers/mingo-store.ts';

const BASE = 'http://test.local/fhir';

interface Case {
  name: string;
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS' | 'TRACE' | 'PROPFIND';
  url: string;
  body?: string | Buffer;
  headers?: Record<string, string>;
  /** 'client-error' (4xx OperationOutcome), 'search' (200 searchset, at most `max` matches) or
   * 'handled' (any answer but a 5xx, with a FHIR body if any: e.g. a conditional delete whose odd
   * criteria match nothing, or a HEAD) */
  expect: 'client-error' | 'search' | 'handled';
  max?: number;
}

function checksum(path: string): string {
  const db = new Database(path, { readonly: true });
  const h = createHash('sha256');
  for (const r of db.prepare("SELECT resource_type, id, version_id, content FROM resource_version WHERE resource_type <> 'AuditEvent' ORDER BY seq").iterate() as Iterable<Record<string, unknown>>) {
    h.update(JSON.stringify(r));
  }
  for (const r of db.prepare("SELECT resource_type, id, seq, deleted FROM resource WHERE resource_type <> 'AuditEvent' ORDER BY rid").iterate() as Iterable<Record<string, unknown>>) {
    h.update(JSON.stringify(r));
  }
  db.close();
  return h.digest('hex');
}

const SQL = [
  "' OR '1'='1", "' OR 1=1 --", '1; DROP TABLE resource; --', "x') UNION SELECT content FROM resource_version --", '%', '_', '%25', '\\', "\\'", '"', '"; DELETE FROM sp_string; --',
  "') OR ('a'='a", '*', '?', '1 OR 1=1', "admin'--", 'NULL', '0x00', '\u0000', "'; ATTACH DATABASE '/tmp/x' AS x; --",
];
const MONGO = ['{"$gt":""}', '{"$ne":null}', '{"$where":"sleep(1000)"}', '$gt', '{"$regex":".*"}', '[$ne]=1', '{"$expr":{"$eq":[1,1]}}'];
const VALUES = [...SQL, ...MONGO];

function searchCases(): Case[] {
  const out: Case[] = [];
  const params: [string, string, 'search' | 'client-error' | 'either'][] = [
    ['Patient', 'name', 'search'], ['Patient', 'family:exact', 'search'], ['Patient', 'name:contains', 'search'], ['Patient', 'identifier', 'search'],
    ['Patient', 'gender:not', 'either'], ['Patient', 'birthdate', 'client-error'], ['Observation', 'value-quantity', 'client-error'], ['RiskAssessment', 'probability', 'client-error'],
    ['Observation', 'subject', 'either'], ['ValueSet', 'url', 'search'], ['Patient', '_id', 'search'], ['Patient', '_lastUpdated', 'client-error'],
    ['Observation', 'subject:Patient.name', 'search'], ['Patient', '_has:Observation:subject:code', 'search'], ['Observation', 'code-value-quantity', 'client-error'],
  ];
  for (const [type, param, expect] of params) {
    for (const v of VALUES) {
      out.push({
        name: `${type}?${param}=${JSON.stringify(v).slice(0, 40)}`,
        method: 'GET',
        url: `/fhir/${type}?${encodeURIComponent(param)}=${encodeURIComponent(v)}`,
        expect: expect === 'either' ? 'search' : expect,
        // p3's family name is literally "%_\\": string searches may match it, and nothing else
        max: param === 'gender:not' ? 3 : ['name', 'family:exact', 'name:contains'].includes(param) ? 1 : 0,
      });
    }
  }
  // injection in parameter names, control parameters and paging
  for (const v of ['name); DROP TABLE resource;--', "name'", '$where', 'name[$ne]', '__proto__', 'constructor.prototype', '_sort', '_include']) {
    out.push({ name: `name injection ${v}`, method: 'GET', url: `/fhir/Patient?${encodeURIComponent(v)}=x`, expect: 'search', max: 3, headers: {} });
    out.push({ name: `strict name injection ${v}`, method: 'GET', url: `/fhir/Patient?${encodeURIComponent(v)}=x`, expect: 'client-error', headers: { prefer: 'handling=strict' } });
  }
  // unknown sort keys are ignored (lenient) or refused (strict); never part of the SQL
  for (const v of ["name' DESC", '-name;DROP', '(SELECT 1)', 'name,--', 'address-city:contains']) {
    out.push({ name: `_sort=${v}`, method: 'GET', url: `/fhir/Patient?_sort=${encodeURIComponent(v)}`, expect: 'search', max: 3 });
    out.push({ name: `strict _sort=${v}`, method: 'GET', url: `/fhir/Patient?_sort=${encodeURIComponent(v)}`, expect: 'client-error', headers: { prefer: 'handling=strict' } });
  }
  for (const v of ["Patient:organization' OR 1=1", '*:*', 'Patient:../etc', 'Foo:bar']) out.push({ name: `_include=${v}`, method: 'GET', url: `/fhir/Patient?_include=${encodeURIComponent(v)}`, expect: 'client-error' });
  for (const v of ['-1', '1e9', 'abc', "1' OR 1=1", '99999999999']) out.push({ name: `_count=${v}`, method: 'GET', url: `/fhir/Patient?_count=${encodeURIComponent(v)}`, expect: v === '1e9' || v === '99999999999' || v === '-1' || v === 'abc' || v.includes("'") ? 'client-error' : 'search' });
  for (const v of ['eyJhZnRlciI6WyInIE9SIDE9MSJdfQ', 'not-a-cursor', Buffer.from('{"after":[{"$gt":""},1]}').toString('base64url'), Buffer.from('{"after":["x"]}').toString('base64url')]) {
    out.push({ name: `_page=${v.slice(0, 20)}`, method: 'GET', url: `/fhir/Patient?_page=${v}`, expect: 'client-error' });
  }
  return out;
}

function bodyCases(): Case[] {
  const post = (name: string, body: string, url = '/fhir/Patient', method: Case['method'] = 'POST', headers: Record<string, string> = {}): Case => ({ name, method, url, body, expect: 'client-error', headers: { 'content-type': 'application/fhir+json', ...headers } });
  const deep = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;
  const out: Case[] = [
    post('truncated JSON', '{"resourceType":"Patient",'),
    post('trailing garbage', '{"resourceType":"Patient"} x'),
    post('JSON array', '[{"resourceType":"Patient"}]'),
    post('JSON string', '"Patient"'),
    post('JSON number', '42'),
    post('JSON null', 'null'),
    post('single quotes', "{'resourceType':'Patient'}"),
    post('NaN', '{"resourceType":"Patient","multipleBirthInteger":NaN}'),
    post('comments', '{"resourceType":"Patient" /* x */}'),
    post('BOM and garbage', '\ufeff\u0000{"resourceType":"Patient"}'),
    post('unpaired surrogate in key', '{"resourceType":"Patient","\\ud800":1}'),
    post('duplicate resourceType', '{"resourceType":"Patient","resourceType":"Observation"}'),
    post('wrong resourceType', '{"resourceType":"Observation","status":"final","code":{"text":"x"}}'),
    post('unknown resourceType', '{"resourceType":"Evil"}'),
    post('resourceType object', '{"resourceType":{"$ne":null}}'),
    post('__proto__ key', '{"resourceType":"Patient","__proto__":{"admin":true}}'),
    post('nested __proto__', '{"resourceType":"Patient","name":[{"family":"x","__proto__":{"polluted":1}}]}'),
    post('constructor.prototype', '{"resourceType":"Patient","constructor":{"prototype":{"polluted":1}}}'),
    post('prototype key', '{"resourceType":"Patient","extension":[{"url":"x","prototype":1}]}'),
    post('Mongo operator as element', '{"resourceType":"Patient","$where":"sleep(5000)"}'),
    post('Mongo operator in value', '{"resourceType":"Patient","gender":{"$ne":"x"}}'),
    post('Mongo operator nested', '{"resourceType":"Patient","name":[{"$set":{"family":"x"}}]}'),
    post('10 MB string', JSON.stringify({ resourceType: 'Patient', name: [{ family: 'x'.repeat(10 * 1024 * 1024) }] })),
    post('20 MB body', JSON.stringify({ resourceType: 'Patient', name: [{ family: 'x'.repeat(20 * 1024 * 1024) }] })),
    post('10,000-deep nesting', `{"resourceType":"Patient","extension":[${deep(10000)}]}`),
    post('10,000-deep arrays', `{"resourceType":"Patient","x":${'['.repeat(10000)}${']'.repeat(10000)}}`),
    post('101-deep nesting', `{"resourceType":"Patient","extension":[${deep(101)}]}`),
    post('null element', '{"resourceType":"Patient","active":null}'),
    post('empty object', '{"resourceType":"Patient","text":{}}'),
    post('empty string', '{"resourceType":"Patient","gender":""}'),
    post('number as string', '{"resourceType":"Patient","active":"true"}'),
    post('array for single', '{"resourceType":"Patient","gender":["male"]}'),
    post('single for array', '{"resourceType":"Patient","name":{"family":"x"}}'),
    post('choice type conflict', '{"resourceType":"Patient","deceasedBoolean":true,"deceasedDateTime":"2020"}'),
    post('bad choice type', '{"resourceType":"Patient","deceasedString":"yes"}'),
    post('contained junk', '{"resourceType":"Patient","contained":[{"resourceType":"Evil"}]}'),
    post('no content type', '{"resourceType":"Patient"}', '/fhir/Patient', 'POST', { 'content-type': '' }),
    // FHIR XML is read (test/http/xml.test.ts has its hostile cases): one here, its error asked for in JSON
    post('xml external entity', '<!DOCTYPE Patient [<!ENTITY x SYSTEM "file:///etc/passwd">]><Patient xmlns="http://hl7.org/fhir"><id value="&x;"/></Patient>', '/fhir/Patient', 'POST', { 'content-type': 'application/fhir+xml', accept: 'application/fhir+json' }),
    post('form content type', 'resourceType=Patient', '/fhir/Patient', 'POST', { 'content-type': 'application/x-www-form-urlencoded' }),
    post('text content type', '{"resourceType":"Patient"}', '/fhir/Patient', 'POST', { 'content-type': 'text/plain' }),
    post('PUT id mismatch', '{"resourceType":"Patient","id":"other"}', '/fhir/Patient/p1', 'PUT'),
    post('PUT without id', '{"resourceType":"Patient"}', '/fhir/Patient/p1', 'PUT'),
    post('PUT bad If-Match', '{"resourceType":"Patient","id":"p1"}', '/fhir/Patient/p1', 'PUT', { 'if-match': "W/\"1' OR 1=1\"" }),
    post('PUT stale If-Match', '{"resourceType":"Patient","id":"p1"}', '/fhir/Patient/p1', 'PUT', { 'if-match': 'W/"999"' }),
    post('PATCH remove resourceType', '[{"op":"remove","path":"/resourceType"}]', '/fhir/Patient/p1', 'PATCH', { 'content-type': 'application/json-patch+json' }),
    post('PATCH __proto__', '[{"op":"add","path":"/__proto__/polluted","value":1}]', '/fhir/Patient/p1', 'PATCH', { 'content-type': 'application/json-patch+json' }),
    post('PATCH constructor', '[{"op":"add","path":"/constructor/prototype/polluted","value":1}]', '/fhir/Patient/p1', 'PATCH', { 'content-type': 'application/json-patch+json' }),
    post('PATCH change id', '[{"op":"replace","path":"/id","value":"p2"}]', '/fhir/Patient/p1', 'PATCH', { 'content-type': 'application/json-patch+json' }),
    post('PATCH bad op', '[{"op":"eval","path":"/x","value":"1"}]', '/fhir/Patient/p1', 'PATCH', { 'content-type': 'application/json-patch+json' }),
    post('PATCH invalid result', '[{"op":"add","path":"/evil","value":1}]', '/fhir/Patient/p1', 'PATCH', { 'content-type': 'application/json-patch+json' }),
    post('PATCH 10 MB value', JSON.stringify([{ op: 'add', path: '/gender', value: 'x'.repeat(10 * 1024 * 1024) }]), '/fhir/Patient/p1', 'PATCH', { 'content-type': 'application/json-patch+json' }),
    post('If-None-Exist injection', '{"resourceType":"Patient"}', '/fhir/Patient', 'POST', { 'if-none-exist': "bogus=' OR 1=1" }),
    post('Bundle not batch', '{"resourceType":"Bundle","type":"searchset"}', '/fhir', 'POST'),
    { ...post('Bundle entry injection', JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'DELETE', url: "Patient?name=' OR 1=1" } }] }), '/fhir', 'POST'), expect: 'handled' },
    post('Bundle entry traversal', JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'DELETE', url: '../../Patient/p1' } }] }), '/fhir', 'POST'),
    post('Bundle entry other server', JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'DELETE', url: 'http://evil.example/fhir/Patient/p1' } }] }), '/fhir', 'POST'),
    post('Bundle entry bad method', JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'TRACE', url: 'Patient/p1' } }] }), '/fhir', 'POST'),
    post('Bundle with __proto__', '{"resourceType":"Bundle","type":"transaction","entry":[{"__proto__":{"x":1}}]}', '/fhir', 'POST'),
    post('transaction half bad', JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'DELETE', url: 'Patient/p1' } }, { resource: { resourceType: 'Patient', evil: 1 }, request: { method: 'POST', url: 'Patient' } }] }), '/fhir', 'POST'),
  ];
  return out;
}

function pathCases(): Case[] {
  const ids = ['..%2F..%2Fetc%2Fpasswd', '%2e%2e%2f%2e%2e%2f', 'p1%00', 'p1;DROP', "p1'", 'p1%20OR%201=1', 'x'.repeat(65), '%C3%A9t%C3%A9', '%7B%22%24gt%22%3A%22%22%7D', 'p1%2F_history', '*', '$where', '__proto__'];
  const out: Case[] = [];
  for (const id of ids) {
    out.push({ name: `GET id ${id.slice(0, 30)}`, method: 'GET', url: `/fhir/Patient/${id}`, expect: 'client-error' });
    out.push({ name: `DELETE id ${id.slice(0, 30)}`, method: 'DELETE', url: `/fhir/Patient/${id}`, expect: 'client-error' });
    out.push({ name: `vread ${id.slice(0, 30)}`, method: 'GET', url: `/fhir/Patient/p1/_history/${id}`, expect: 'client-error' });
  }
  for (const type of ['..%2F..', 'patient', 'Patient%00', '__proto__', 'constructor', 'Resource', 'DomainResource']) {
    out.push({ name: `type ${type}`, method: 'GET', url: `/fhir/${type}/p1`, expect: 'client-error' });
  }
  // a literal ".." segment is resolved by URL rules before routing: it can only name another API path
  out.push({ name: 'dot-dot id', method: 'GET', url: '/fhir/Patient/..', expect: 'handled' });
  out.push({ name: 'dot-dot version', method: 'GET', url: '/fhir/Patient/p1/_history/..', expect: 'handled' });
  out.push({ name: 'traversal in path', method: 'GET', url: '/fhir/../../etc/passwd', expect: 'client-error' });
  out.push({ name: 'encoded traversal', method: 'GET', url: '/fhir/%2e%2e/%2e%2e/etc/passwd', expect: 'client-error' });
  out.push({ name: 'version not a number', method: 'GET', url: "/fhir/Patient/p1/_history/1'OR'1", expect: 'client-error' });
  out.push({ name: 'huge version', method: 'GET', url: '/fhir/Patient/p1/_history/99999999999999999999', expect: 'client-error' });
  out.push({ name: 'unknown format', method: 'GET', url: '/fhir/Patient/p1?_format=../../etc', expect: 'client-error' });
  out.push({ name: 'bad _summary', method: 'GET', url: "/fhir/Patient/p1?_summary=true' OR 1", expect: 'client-error' });
  // RFC 9110 §13.1.3: an invalid If-Modified-Since is ignored, so the read answers 200
  out.push({ name: 'bad If-Modified-Since', method: 'GET', url: '/fhir/Patient/p1', headers: { 'if-modified-since': "'; DROP" }, expect: 'handled' });
  out.push({ name: 'bad _since', method: 'GET', url: "/fhir/_history?_since=2020' OR 1=1", expect: 'client-error' });
  out.push({ name: 'bad _at', method: 'GET', url: '/fhir/Patient/_history?_at={"$gt":""}', expect: 'client-error' });
  out.push({ name: 'history cursor forged', method: 'GET', url: '/fhir/_history?_page=eyJiIjoiJyBPUiAxPTEifQ', expect: 'client-error' });
  return out;
}

/** `n` values made by `f`, comma-separated */
const list = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i)).join(',');
/** `name=value` `n` times */
const repeat = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i)).join('&');

/** Search values R4 search says are errors (400), not searches that find nothing. */
function malformedValueCases(): Case[] {
  const urls = [
    '/fhir/Patient?birthdate=2020-01-01T00:00:00%2B25:00', '/fhir/Patient?birthdate=2020-01-01T25:00:00Z', '/fhir/Patient?birthdate=2020-01-01T10:61:00Z',
    '/fhir/Patient?birthdate=2020-01-01T10:00:00%2B14:30', '/fhir/Patient?_lastUpdated=gt2020-01-01T00:00:00-99:00',
    '/fhir/RiskAssessment?probability=1e999999', `/fhir/RiskAssessment?probability=${'9'.repeat(400)}`, '/fhir/RiskAssessment?probability=-1e400',
    '/fhir/Observation?value-quantity=5.4|a|b|c', '/fhir/Observation?value-quantity=5.4e99999||mg', '/fhir/Observation?value-quantity=5.4|a',
    '/fhir/Observation?code-value-quantity=http://loinc.org|1$1e999', '/fhir/Observation?value-quantity=ap1e400|http://unitsofmeasure.org|mg',
    // percent-escapes that do not decode to UTF-8, and NUL, in names and values of any parameter
    '/fhir/Patient?name=%ED%A0%80', '/fhir/Patient?name=%FF', '/fhir/Patient?name=%C0%AF', '/fhir/Patient?name=%ZZ', '/fhir/Patient?name=%',
    '/fhir/Patient?_id=%ED%A0%80', '/fhir/Patient?_id=%00', '/fhir/Patient?name=a%00b', '/fhir/Patient?na%00me=x', '/fhir/Patient?%FF=x',
    '/fhir/Patient/p1?_format=%FF', '/fhir/Patient?_id=p1%01', '/fhir/Patient?_has:Observation:subject:_id=o1%00',
  ];
  return urls.map((url) => ({ name: `malformed ${url.slice(0, 90)}`, method: 'GET', url, expect: 'client-error' }));
}

/** Searches past the default limits (500 values, 100 parameters): 400, never a 500 from the SQL. */
function tooLargeCases(): Case[] {
  const form = (name: string, body: string, expect: Case['expect'] = 'client-error'): Case => ({ name, method: 'POST', url: '/fhir/Patient/_search', body, headers: { 'content-type': 'application/x-www-form-urlencoded' }, expect });
  const out: Case[] = [
    form('POST _search with 10,000 values', `name=${list(10000, (i) => `n${i}`)}`),
    form('POST _search with 100,000 _id values', `_id=${list(100000, (i) => `id${i}`)}`),
    form('POST _search with a parameter repeated 1,000 times', repeat(1000, (i) => `name=n${i}`)),
    { name: 'GET with 501 values', method: 'GET', url: `/fhir/Patient?identifier=${list(501, (i) => `s|${i}`)}`, expect: 'client-error' },
    { name: 'GET with 101 parameters', method: 'GET', url: `/fhir/Patient?${repeat(101, (i) => `birthdate=ge${1000 + i}`)}`, expect: 'client-error' },
    { name: '1,000 _include', method: 'GET', url: `/fhir/Patient?${repeat(1000, () => '_include=Patient:organization')}`, expect: 'client-error' },
    { name: '1,000 _revinclude', method: 'GET', url: `/fhir/Patient?${repeat(1000, () => '_revinclude=Observation:subject')}`, expect: 'client-error' },
    { name: '1,000 _sort keys', method: 'GET', url: `/fhir/Patient?_sort=${list(1000, () => 'name')}`, expect: 'client-error' },
    { name: 'conditional delete with 10,000 values', method: 'DELETE', url: `/fhir/Patient?_id=${list(10000, (i) => `x${i}`)}`, expect: 'client-error' },
    { name: 'If-None-Exist with 1,000 values', method: 'POST', url: '/fhir/Patient', body: '{"resourceType":"Patient"}', headers: { 'content-type': 'application/fhir+json', 'if-none-exist': `identifier=${list(1000, (i) => `s|${i}`)}` }, expect: 'client-error' },
    { name: '_type with 10,000 types', method: 'GET', url: `/fhir?_type=${list(10000, () => 'Patient')}`, expect: 'client-error' },
    { name: 'If-None-Exist with a bad escape', method: 'POST', url: '/fhir/Patient', body: '{"resourceType":"Patient"}', headers: { 'content-type': 'application/fhir+json', 'if-none-exist': 'name=%ED%A0%80' }, expect: 'client-error' },
    { name: 'Bundle entry URL with a bad escape', method: 'POST', url: '/fhir', body: JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'DELETE', url: 'Patient?name=%ED%A0%80' } }] }), headers: { 'content-type': 'application/fhir+json' }, expect: 'client-error' },
    { name: 'Bundle entry path with a bad escape', method: 'POST', url: '/fhir', body: JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'DELETE', url: 'Patient/%E0%A4%A' } }] }), headers: { 'content-type': 'application/fhir+json' }, expect: 'client-error' },
    { name: 'chain 6 deep', method: 'GET', url: '/fhir/Observation?subject:Patient.organization.partof.partof.partof.partof.name=x', expect: 'client-error' },
    { name: 'chain of 5,000 links', method: 'GET', url: `/fhir/Observation?subject${'.organization'.repeat(5000)}=x`, expect: 'client-error' },
    { name: '_has 6 deep', method: 'GET', url: `/fhir/Patient?${'_has:Observation:subject:'.repeat(6)}code=x`, expect: 'client-error' },
    // odd but harmless: answered as ordinary searches
    { name: '_elements with 5,000 names', method: 'GET', url: `/fhir/Patient?_elements=${list(5000, (i) => `e${i}`)}`, expect: 'search', max: 3 },
    { name: 'huge _count', method: 'GET', url: '/fhir/Patient?_count=999999999', expect: 'search', max: 3 },
    { name: '100,000-character value', method: 'GET', url: `/fhir/Patient?name=${'a'.repeat(100000)}`, expect: 'search' },
    form('10 MB value in POST _search', `name=${'a'.repeat(10 * 1024 * 1024)}`, 'search'),
  ];
  return out;
}

/** Methods and headers outside FHIR's API, and ones a proxy might honour. */
function methodCases(): Case[] {
  return [
    { name: 'OPTIONS', method: 'OPTIONS', url: '/fhir/Patient/p1', expect: 'client-error' },
    { name: 'TRACE', method: 'TRACE', url: '/fhir/Patient/p1', expect: 'client-error' },
    { name: 'PROPFIND', method: 'PROPFIND', url: '/fhir/Patient/p1', expect: 'client-error' },
    { name: 'HEAD', method: 'HEAD', url: '/fhir/Patient/p1', expect: 'handled' },
    { name: 'X-HTTP-Method-Override is not honoured', method: 'GET', url: '/fhir/Patient/p1', headers: { 'x-http-method-override': 'DELETE' }, expect: 'handled' },
    { name: 'X-HTTP-Method-Override on POST', method: 'POST', url: '/fhir/Patient/p1', body: '', headers: { 'x-http-method-override': 'DELETE', 'content-type': 'application/fhir+json' }, expect: 'client-error' },
    { name: 'Range is ignored', method: 'GET', url: '/fhir/Patient/p1', headers: { range: 'bytes=0-1' }, expect: 'handled' },
    { name: 'URL that does not decode', method: 'GET', url: '/fhir/Patient/%E0%A4%A', expect: 'client-error' },
    { name: 'encoded surrogate in the path', method: 'GET', url: '/fhir/Patient/%ED%A0%80', expect: 'client-error' },
    { name: 'path segment of 10,000 characters', method: 'GET', url: `/fhir/Patient/${'a'.repeat(10000)}`, expect: 'client-error' },
  ];
}

/** Bodies that are not what they claim: not UTF-8, compressed, the wrong media type. */
function encodingCases(): Case[] {
  const json = (name: string, body: string | Buffer, headers: Record<string, string> = {}, url = '/fhir/Patient', method: Case['method'] = 'POST'): Case => ({ name, method, url, body, headers: { 'content-type': 'application/fhir+json', ...headers }, expect: 'client-error' });
  const bytes = (...parts: (string | number[])[]) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));
  const patient = '{"resourceType":"Patient","name":[{"family":"Haddad"}]}';
  return [
    json('invalid UTF-8 byte in a name', bytes('{"resourceType":"Patient","name":[{"family":"Had', [0xff], 'dad"}]}')),
    json('overlong UTF-8', bytes('{"resourceType":"Patient","name":[{"family":"', [0xc0, 0xaf], '"}]}')),
    json('UTF-8-encoded lone surrogate', bytes('{"resourceType":"Patient","name":[{"family":"', [0xed, 0xa0, 0x80], '"}]}')),
    json('truncated UTF-8 sequence', bytes('{"resourceType":"Patient","name":[{"family":"', [0xe2, 0x82], '"}]}')),
    json('Latin-1 body', Buffer.from('{"resourceType":"Patient","name":[{"family":"Müller"}]}', 'latin1')),
    json('UTF-16 body', Buffer.from(patient, 'utf16le')),
    json('invalid UTF-8 in PUT', bytes('{"resourceType":"Patient","id":"p1","name":[{"family":"', [0xff], '"}]}'), {}, '/fhir/Patient/p1', 'PUT'),
    json('invalid UTF-8 in a transaction', bytes('{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Patient","name":[{"family":"', [0xff], '"}]},"request":{"method":"POST","url":"Patient"}}]}'), {}, '/fhir'),
    json('invalid UTF-8 in JSON Patch', bytes('[{"op":"replace","path":"/gender","value":"', [0xff], '"}]'), { 'content-type': 'application/json-patch+json' }, '/fhir/Patient/p1', 'PATCH'),
    json('lone surrogate escape in a value', '{"resourceType":"Patient","name":[{"family":"\\ud800"}]}'),
    json('low surrogate escape alone', '{"resourceType":"Patient","name":[{"family":"x\\udfffy"}]}'),
    json('high surrogate escape before a non-surrogate', '{"resourceType":"Patient","name":[{"family":"\\uD83D\\u0041"}]}'),
    json('duplicate key', '{"resourceType":"Patient","gender":"male","gender":"female"}'),
    json('duplicate key nested', '{"resourceType":"Patient","name":[{"family":"Haddad","family":"Okafor"}]}'),
    json('duplicate key spelled with an escape', '{"resourceType":"Patient","gender":"male","\\u0067ender":"female"}'),
    json('duplicate key in PUT', '{"resourceType":"Patient","id":"p1","id":"p2"}', {}, '/fhir/Patient/p1', 'PUT'),
    json('duplicate key in a transaction entry', JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'DELETE', url: 'Patient/p2' } }] }).replace('"method":"DELETE"', '"method":"GET","method":"DELETE"'), {}, '/fhir'),
    json('1e999 number', '{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":1e999}}', {}, '/fhir/Observation'),
    json('400-digit number', `{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":${'9'.repeat(400)}}}`, {}, '/fhir/Observation'),
    json('gzip body', gzipSync(patient), { 'content-encoding': 'gzip' }),
    json('gzip bomb', gzipSync(Buffer.alloc(50 * 1024 * 1024, 32)), { 'content-encoding': 'gzip' }),
    json('deflate body', Buffer.from(patient), { 'content-encoding': 'deflate' }),
    json('create as JSON Patch', '[{"op":"add","path":"/resourceType","value":"Patient"}]', { 'content-type': 'application/json-patch+json' }),
    json('create a resource sent as JSON Patch', patient, { 'content-type': 'application/json-patch+json' }),
    json('update as JSON Patch', '{"resourceType":"Patient","id":"p1"}', { 'content-type': 'application/json-patch+json' }, '/fhir/Patient/p1', 'PUT'),
    json('Bundle as JSON Patch', '{"resourceType":"Bundle","type":"batch"}', { 'content-type': 'application/json-patch+json' }, '/fhir'),
    json('POST _search with a JSON object', '{"name":"Haddad"}', {}, '/fhir/Patient/_search'),
    json('POST _search with a JSON number value', '{"name":1}', {}, '/fhir/Patient/_search'),
    json('POST _search with a JSON array', '[1,2]', { 'content-type': 'application/json' }, '/fhir/Patient/_search'),
    json('system POST _search with JSON', '{"_type":"Patient"}', {}, '/fhir/_search'),
    json('POST _search form not UTF-8', bytes('name=', [0xff]), { 'content-type': 'application/x-www-form-urlencoded' }, '/fhir/Patient/_search'),
    json('POST _search form with a bad escape', 'name=%ED%A0%80', { 'content-type': 'application/x-www-form-urlencoded' }, '/fhir/Patient/_search'),
    json('POST _search form with NUL', 'name=a%00', { 'content-type': 'application/x-www-form-urlencoded' }, '/fhir/Patient/_search'),
    json('POST _search gzip form', gzipSync('name=Haddad'), { 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': 'gzip' }, '/fhir/Patient/_search'),
    json('If-None-Exist with 101 parameters', patient, { 'if-none-exist': repeat(101, (i) => `identifier=s|${i}`) }),
  ];
}

t.test('hostile requests get 4xx OperationOutcomes and change nothing', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-hostile-'));
  const path = join(dir, 'migfhir.sqlite');
  const store = new SqliteStore({ path });
  const app = await buildApp(testConfig({ baseUrl: BASE, dataDir: dir }), { store });
  t.teardown(async () => {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const put = (r: Record<string, unknown>) => app.inject({ method: 'PUT', url: `/fhir/${r.resourceType}/${r.id}`, headers: { 'content-type': 'application/fhir+json' }, payload: JSON.stringify(r) });
  await put({ resourceType: 'Patient', id: 'p1', name: [{ family: 'Haddad', given: ['Amal'] }], gender: 'female', birthDate: '1990-01-01' });
  await put({ resourceType: 'Patient', id: 'p2', name: [{ family: "O'Brien" }], gender: 'male' });
  await put({ resourceType: 'Patient', id: 'p3', name: [{ family: '%_\\' }], gender: 'other' });
  await put({ resourceType: 'Observation', id: 'o1', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/p1' } });
  const before = checksum(path);
  const cases = [...searchCases(), ...bodyCases(), ...pathCases(), ...malformedValueCases(), ...tooLargeCases(), ...methodCases(), ...encodingCases()];
  t.ok(cases.length >= 300, `${cases.length} hostile requests`);
  const failures: string[] = [];
  for (const c of cases) {
    const res = await app.inject({ method: c.method, url: c.url, headers: c.headers, ...(c.body !== undefined ? { payload: c.body } : {}) });
    let body: any;
    try {
      body = JSON.parse(res.body);
    } catch {
      body = undefined;
    }
    if (res.statusCode >= 500) failures.push(`${c.name}: ${res.statusCode}`);
    else if (res.statusCode >= 400 && !String(res.headers['content-type']).startsWith('application/fhir+json')) failures.push(`${c.name}: ${res.statusCode} as ${res.headers['content-type']}`);
    else if (c.expect === 'handled') {
      if (res.body !== '' && body?.resourceType === undefined) failures.push(`${c.name}: not a FHIR answer`);
    } else if (c.expect === 'client-error') {
      if (res.statusCode < 400 && !(c.name.startsWith('name injection') && res.statusCode === 200)) failures.push(`${c.name}: expected 4xx, got ${res.statusCode}`);
      else if (res.statusCode >= 400 && body?.resourceType !== 'OperationOutcome') failures.push(`${c.name}: 4xx without OperationOutcome`);
    } else {
      const ok = (res.statusCode === 200 && body?.type === 'searchset') || (res.statusCode >= 400 && body?.resourceType === 'OperationOutcome');
      if (!ok) failures.push(`${c.name}: ${res.statusCode}`);
      else if (res.statusCode === 200) {
        const matches = (body.entry ?? []).filter((e: any) => e.search?.mode === 'match').length;
        if (matches > (c.max ?? 0)) failures.push(`${c.name}: ${matches} matches (injection widened the search?)`);
      }
    }
    if (res.body.includes('/work/') || /\bat [A-Za-z.]+ \(/.test(res.body) || res.body.includes('SQLITE')) failures.push(`${c.name}: internal detail in response`);
  }
  t.same(failures, [], 'every hostile request handled');
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution');
  t.equal(({} as Record<string, unknown>).admin, undefined);
  t.equal(checksum(path), before, 'stored data unchanged');
  t.equal((await app.inject({ method: 'GET', url: '/fhir/Patient/p1' })).statusCode, 200, 'still serving');
});

/** Searches at and past the largest limits the options allow (1,000 values, 200 parameters):
 * at the limit both engines answer and find what they should, past it they answer 400. */
interface SizeCase {
  name: string;
  url: string;
  /** the ids a search at the limit finds; absent: past the limit, 400 */
  ids?: string[];
}

function sizeCases(maxValues: number, maxParameters: number): SizeCase[] {
  const v = maxValues;
  const p = maxParameters;
  // every list ends with a value that matches, so the search is not trivially empty
  const out: SizeCase[] = [
    { name: '_id', url: `/fhir/Patient?_id=${list(v - 1, (i) => `x${i}`)},p1`, ids: ['p1'] },
    { name: '_id:not', url: `/fhir/Patient?_id:not=${list(v - 1, (i) => `x${i}`)},p1`, ids: ['p2'] },
    { name: 'string', url: `/fhir/Patient?name=${list(v - 1, (i) => `n${i}`)},hadd`, ids: ['p1'] },
    { name: 'string :contains', url: `/fhir/Patient?name:contains=${list(v - 1, (i) => `n${i}`)},dda`, ids: ['p1'] },
    { name: 'token system|code', url: `/fhir/Patient?identifier=${list(v - 1, (i) => `urn:s|${i}`)},urn:mrn|42`, ids: ['p1'] },
    { name: 'token :not', url: `/fhir/Patient?gender:not=${list(v - 1, (i) => `g${i}`)},female`, ids: ['p2'] },
    { name: 'date', url: `/fhir/Patient?birthdate=${list(v - 1, (i) => `${1000 + i}`)},1990`, ids: ['p1'] },
    { name: 'quantity', url: `/fhir/Observation?value-quantity=${list(v - 1, (i) => `${i + 1000}|http://unitsofmeasure.org|mg`)},5.4|http://unitsofmeasure.org|mg`, ids: ['o1'] },
    { name: 'reference', url: `/fhir/Observation?subject=${list(v - 1, (i) => `Patient/x${i}`)},Patient/p1`, ids: ['o1'] },
    { name: 'composite', url: `/fhir/Observation?code-value-quantity=${list(v - 1, (i) => `http://loinc.org|${i}$1`)},http://loinc.org|2345-7$5.4`, ids: ['o1'] },
    { name: 'chain', url: `/fhir/Observation?subject:Patient.name=${list(v - 1, (i) => `n${i}`)},haddad`, ids: ['o1'] },
    { name: '_has', url: `/fhir/Patient?_has:Observation:subject:code=${list(v - 1, (i) => `c${i}`)},2345-7`, ids: ['p1'] },
    { name: 'uri', url: `/fhir/ValueSet?url=${list(v - 1, (i) => `http://x/${i}`)},http://example.org/vs`, ids: ['vs1'] },
    { name: 'repeated parameter', url: `/fhir/Patient?${repeat(p, () => 'name=hadd')}`, ids: ['p1'] },
    { name: 'repeated date', url: `/fhir/Patient?${repeat(p, (i) => `birthdate=ge${1000 + i}`)}`, ids: ['p1'] },
    { name: 'many parameters of many values', url: `/fhir/Observation?${repeat(p / 2, () => `value-quantity=${list(Math.floor((2 * v) / p) - 1, (i) => `${i + 100}||mg`)},5.4||mg`)}`, ids: ['o1'] },
    { name: '_include', url: `/fhir/Patient?_id=p1&${repeat(p - 1, () => '_include=Patient:organization')}`, ids: ['p1'] },
    { name: '_revinclude', url: `/fhir/Patient?_id=p1&${repeat(p - 1, () => '_revinclude=Observation:subject')}`, ids: ['p1'] },
    { name: '_sort', url: `/fhir/Patient?_sort=${list(p, (i) => (i % 2 ? '-name' : 'birthdate'))}`, ids: ['p1', 'p2'] },
    { name: 'POST _search', url: `POST name=${list(v - 1, (i) => `n${i}`)},hadd`, ids: ['p1'] },
    // one past each limit
    { name: '_id past the limit', url: `/fhir/Patient?_id=${list(v + 1, (i) => `x${i}`)}` },
    { name: 'values past the limit over two parameters', url: `/fhir/Patient?name=${list(v, (i) => `n${i}`)}&gender=female` },
    { name: 'composite past the limit', url: `/fhir/Observation?code-value-quantity=${list(v + 1, (i) => `http://loinc.org|${i}$1`)}` },
    { name: 'parameters past the limit', url: `/fhir/Patient?${repeat(p + 1, () => 'name=hadd')}` },
    { name: '_include past the limit', url: `/fhir/Patient?_id=p1&${repeat(p, () => '_include=Patient:organization')}` },
    { name: '_sort past the limit', url: `/fhir/Patient?name=hadd&_sort=${list(p, () => 'name')}` },
    { name: 'POST _search past the limit', url: `POST ${repeat(p + 1, (i) => `name=n${i}`)}` },
  ];
  return out;
}

const ENGINES: [string, () => ResourceStore][] = [
  ['sqlite', () => new SqliteStore({ path: ':memory:' })],
  ['mongodb compiler on mingo', () => new MingoSearchStore()],
];

for (const [engine, open] of ENGINES) {
  t.test(`searches at the largest limits answer, past them 400 (${engine})`, async (t) => {
    const maxValues = 1000;
    const maxParameters = 200;
    const store = open();
    const app = await buildApp(testConfig({ baseUrl: BASE, maxSearchValues: maxValues, maxSearchParameters: maxParameters }), { store });
    t.teardown(async () => {
      await app.close();
      await store.close();
    });
    const put = (r: Record<string, unknown>) => app.inject({ method: 'PUT', url: `/fhir/${r.resourceType}/${r.id}`, headers: { 'content-type': 'application/fhir+json' }, payload: JSON.stringify(r) });
    for (const r of [
      { resourceType: 'Patient', id: 'p1', name: [{ family: 'Haddad' }], gender: 'female', birthDate: '1990-01-01', identifier: [{ system: 'urn:mrn', value: '42' }] },
      { resourceType: 'Patient', id: 'p2', name: [{ family: 'Okafor' }], gender: 'male', birthDate: '0999-01-01' },
      { resourceType: 'Observation', id: 'o1', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '2345-7' }] }, subject: { reference: 'Patient/p1' }, valueQuantity: { value: 5.4, system: 'http://unitsofmeasure.org', code: 'mg' } },
      { resourceType: 'ValueSet', id: 'vs1', url: 'http://example.org/vs', status: 'active' },
    ]) t.equal((await put(r)).statusCode, 201, `${r.resourceType}/${r.id} stored`);
    for (const c of sizeCases(maxValues, maxParameters)) {
      const res = c.url.startsWith('POST ')
        ? await app.inject({ method: 'POST', url: '/fhir/Patient/_search', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: c.url.slice(5) })
        : await app.inject({ method: 'GET', url: c.url });
      const body = res.json();
      if (c.ids) {
        t.equal(res.statusCode, 200, `${c.name}: answered`);
        t.same((body.entry ?? []).filter((e: any) => e.search?.mode === 'match').map((e: any) => e.resource.id).sort(), c.ids, `${c.name}: the matches`);
      } else {
        t.equal(res.statusCode, 400, `${c.name}: 400`);
        t.equal(body.issue?.[0]?.code, 'too-costly', `${c.name}: too-costly`);
      }
    }
  });
}

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Sends `chunks` over a fresh connection, `gap` ms apart (or all at once), and reads until the
 * server closes it (at most `waitMs`): the responses, how long the server held the connection. */
async function exchange(port: number, chunks: (string | Buffer)[], gap = 0, waitMs = 8000): Promise<{ responses: RawResponse[]; heldMs: number; closed: boolean }> {
  const socket = connect({ port, host: '127.0.0.1' });
  const started = Date.now();
  const received: Buffer[] = [];
  socket.on('data', (d) => received.push(d));
  socket.on('error', () => undefined);
  const closed = new Promise<boolean>((resolve) => {
    socket.on('close', () => resolve(true));
    setTimeout(() => resolve(false), waitMs);
  });
  await new Promise((resolve) => socket.once('connect', resolve));
  let stop = false;
  void closed.then(() => (stop = true));
  for (const chunk of chunks) {
    if (stop || socket.destroyed) break;
    socket.write(chunk);
    if (gap) await new Promise((resolve) => setTimeout(resolve, gap));
  }
  const wasClosed = await closed;
  const heldMs = Date.now() - started;
  socket.destroy();
  const responses: RawResponse[] = [];
  let text = Buffer.concat(received).toString('utf8');
  while (text.startsWith('HTTP/1.1 ')) {
    const end = text.indexOf('\r\n\r\n');
    if (end < 0) break;
    const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
    const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
    const length = Number(headers['content-length'] ?? 0);
    responses.push({ status: Number(statusLine.split(' ')[1]), headers, body: text.slice(end + 4, end + 4 + length) });
    text = text.slice(end + 4 + length);
  }
  return { responses, heldMs, closed: wasClosed };
}

interface SocketCase {
  name: string;
  /** what is written, chunk by chunk */
  send: (string | Buffer)[];
  /** ms between chunks: a slow client */
  gap?: number;
  /** the status of the first response */
  status: number;
  /** the connection must be closed within this many ms */
  closedWithinMs?: number;
}

const REQUEST_TIMEOUT = 1500;

function socketCases(): SocketCase[] {
  const get = (path: string, headers = '') => `GET ${path} HTTP/1.1\r\nHost: test.local\r\n${headers}\r\n`;
  const post = (head: string, body: string) => `POST /fhir/Patient HTTP/1.1\r\nHost: test.local\r\nContent-Type: application/fhir+json\r\n${head}\r\n${body}`;
  const patient = '{"resourceType":"Patient","name":[{"family":"Trickle"}]}';
  return [
    { name: 'malformed request line', send: ['GARBAGE\r\n\r\n'], status: 400 },
    { name: 'unknown method', send: [get('/fhir/metadata').replace('GET', 'FOO')], status: 400 },
    { name: 'lower-case method', send: [get('/fhir/metadata').replace('GET', 'get')], status: 400 },
    { name: 'HTTP/9.9', send: [get('/fhir/metadata').replace('HTTP/1.1', 'HTTP/9.9')], status: 400 },
    { name: 'header without a colon', send: [get('/fhir/metadata', 'NoColon\r\n')], status: 400 },
    { name: 'NUL in a header value', send: [get('/fhir/metadata', 'X-A: a\u0000b\r\n')], status: 400 },
    { name: 'space before the colon', send: [get('/fhir/metadata', 'X-A : b\r\n')], status: 400 },
    { name: 'bare LF line ends', send: ['GET /fhir/metadata HTTP/1.1\nHost: x\n\n'], status: 400 },
    { name: 'raw control byte in the URL', send: [get('/fhir/Patient?name=a\u0001b')], status: 400 },
    { name: 'header too large', send: [get('/fhir/metadata', `X-Big: ${'a'.repeat(20000)}\r\n`)], status: 431 },
    { name: 'URL past the header limit', send: [get(`/fhir/Patient?name=${'a'.repeat(20000)}`)], status: 431 },
    { name: 'path segment too long', send: [get(`/fhir/Patient/${'a'.repeat(300)}`)], status: 414 },
    { name: 'URL that does not decode', send: [get('/fhir/Patient/%E0%A4%A')], status: 400 },
    { name: 'Content-Length and Transfer-Encoding', send: [post('Content-Length: 5\r\nTransfer-Encoding: chunked\r\n', `${patient.length.toString(16)}\r\n${patient}\r\n0\r\n\r\n`)], status: 400 },
    { name: 'two different Content-Lengths', send: [post(`Content-Length: ${patient.length}\r\nContent-Length: 3\r\n`, patient)], status: 400 },
    { name: 'negative Content-Length', send: [post('Content-Length: -1\r\n', patient)], status: 400 },
    { name: 'Content-Length not a number', send: [post('Content-Length: 1e3\r\n', patient)], status: 400 },
    { name: 'bad chunk size', send: [post('Transfer-Encoding: chunked\r\n', 'zz\r\nabc\r\n0\r\n\r\n')], status: 400 },
    { name: 'Transfer-Encoding gzip, chunked', send: [post('Transfer-Encoding: gzip, chunked\r\n', `${(6).toString(16)}\r\n\u001f\u008b\u0008xyz\r\n0\r\n\r\n`)], status: 400 },
    { name: 'Transfer-Encoding not chunked', send: [post('Transfer-Encoding: identity\r\n', patient)], status: 400 },
    { name: 'Content-Length shorter than the body', send: [post('Content-Length: 10\r\n', patient)], status: 400 },
    { name: 'Content-Length longer than the body', send: [post('Content-Length: 1000\r\n', patient)], status: 408, closedWithinMs: REQUEST_TIMEOUT + 2000 },
    { name: 'CONNECT', send: ['CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\n\r\n'], status: 405 },
    // slow clients: a connection that sends nothing, a header line every 300 ms, or the body a byte every 300 ms
    { name: 'connection that sends nothing', send: [], status: 408, closedWithinMs: REQUEST_TIMEOUT + 2000 },
    { name: 'headers trickled', send: ['GET /fhir/metadata HTTP/1.1\r\n', ...Array.from({ length: 100 }, (_, i) => `X-${i}: a\r\n`)], gap: 300, status: 408, closedWithinMs: REQUEST_TIMEOUT + 2000 },
    { name: 'body trickled', send: [post(`Content-Length: ${patient.length}\r\n`, ''), ...patient.split('')], gap: 300, status: 408, closedWithinMs: REQUEST_TIMEOUT + 2000 },
  ];
}

t.test('over a real socket: parser errors, slow clients and CONNECT get OperationOutcomes', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-hostile-socket-'));
  const path = join(dir, 'migfhir.sqlite');
  const store = new SqliteStore({ path });
  const app = await buildApp(testConfig({ baseUrl: BASE, dataDir: dir, requestTimeout: REQUEST_TIMEOUT }), { store });
  t.teardown(async () => {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await app.inject({ method: 'PUT', url: '/fhir/Patient/p1', headers: { 'content-type': 'application/fhir+json' }, payload: '{"resourceType":"Patient","id":"p1","name":[{"family":"Haddad"}]}' });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as { port: number }).port;
  const before = checksum(path);
  // the cases run side by side, as a hostile client would send them
  await Promise.all(
    socketCases().map(async (c) => {
      const { responses, heldMs, closed } = await exchange(port, c.send, c.gap);
      t.equal(responses[0]?.status, c.status, `${c.name}: ${c.status}`);
      for (const r of responses) {
        t.ok(r.status >= 400 && r.status < 500, `${c.name}: ${r.status} is a client error`);
        t.match(r.headers['content-type'], /^application\/fhir\+json/, `${c.name}: as application/fhir+json`);
        t.equal(JSON.parse(r.body).resourceType, 'OperationOutcome', `${c.name}: an OperationOutcome`);
      }
      if (c.closedWithinMs) {
        t.ok(closed, `${c.name}: the server closed the connection`);
        t.ok(heldMs < c.closedWithinMs, `${c.name}: held ${heldMs} ms (< ${c.closedWithinMs})`);
      }
    }),
  );
  t.equal(checksum(path), before, 'stored data unchanged');
  const ok = await exchange(port, [get200()], 0, 2000);
  t.equal(ok.responses[0]?.status, 200, 'still serving');
});

function get200(): string {
  return 'GET /fhir/Patient/p1 HTTP/1.1\r\nHost: test.local\r\nConnection: close\r\n\r\n';
}

t.test('forged, expired and escalated tokens', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-hostile-auth-'));
  const path = join(dir, 'migfhir.sqlite');
  const store = new SqliteStore({ path });
  const rs = await generateKeyPair('RS384', { extractable: true });
  const clientsFile = join(dir, 'clients.json');
  writeClient(clientsFile, { clientId: 'c', jwks: { keys: [{ ...(await exportJWK(rs.publicKey)), kid: 'k', alg: 'RS384' }] }, scope: 'system/Observation.rs' });
  const app: FastifyInstance = await buildApp(testConfig({ baseUrl: BASE, dataDir: dir, clientsFile, devOpenAccess: false }), { store });
  t.teardown(async () => {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await store.transaction(async () => undefined);
  const assertion = () =>
    new SignJWT({}).setProtectedHeader({ alg: 'RS384', kid: 'k' }).setIssuer('c').setSubject('c').setAudience(`${BASE}/auth/token`).setExpirationTime('4m').setJti(randomUUID()).sign(rs.privateKey);
  const tok = await app.inject({ method: 'POST', url: '/fhir/auth/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ grant_type: 'client_credentials', scope: 'system/Observation.rs system/Patient.rs', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: await assertion() }).toString() });
  const granted = JSON.parse(tok.body);
  t.equal(granted.scope, 'system/Observation.rs', 'no escalation at the token endpoint');
  const good = granted.access_token as string;
  const [h, p] = good.split('.');
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
  const forge = (changes: Record<string, unknown>, header = h, sig = good.split('.')[2]) => `${header}.${Buffer.from(JSON.stringify({ ...payload, ...changes })).toString('base64url')}.${sig}`;
  const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
  const forged = [
    forge({ scope: 'system/*.cruds' }),
    forge({ exp: Math.floor(Date.now() / 1000) - 3600 }),
    forge({ aud: 'http://elsewhere/fhir' }),
    `${none}.${Buffer.from(JSON.stringify({ ...payload, scope: 'system/*.cruds' })).toString('base64url')}.`,
    await new SignJWT({ ...payload, scope: 'system/*.cruds' }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('guess-the-secret-guess-the-secret')),
    await new SignJWT({ ...payload, scope: 'system/*.cruds' }).setProtectedHeader({ alg: 'RS384', kid: 'k' }).sign(rs.privateKey),
    'garbage',
    '',
  ];
  for (const [i, token] of forged.entries()) {
    const res = await app.inject({ method: 'GET', url: '/fhir/Observation', headers: { authorization: `Bearer ${token}` } });
    t.equal(res.statusCode, 401, `forged token ${i}`);
  }
  const auth = { authorization: `Bearer ${good}` };
  const escalations = ['/fhir/Patient', '/fhir/Observation?subject:Patient.name=x', '/fhir/Observation?subject.name=x', '/fhir/Observation?_has:Provenance:target:agent=x', '/fhir?_type=Patient', '/fhir/_history', '/fhir/Patient/p1/$everything'];
  for (const url of escalations) {
    const res = await app.inject({ method: 'GET', url, headers: auth });
    t.equal(res.statusCode, 403, `scope escalation ${url}`);
    t.equal(JSON.parse(res.body).issue[0].code, 'forbidden');
  }
  const inc = await app.inject({ method: 'GET', url: '/fhir/Observation?_include=Observation:subject&_revinclude=Provenance:target', headers: auth });
  t.equal(inc.statusCode, 200);
  t.ok((JSON.parse(inc.body).entry ?? []).every((e: any) => e.resource.resourceType === 'Observation'), 'included types outside the scopes are left out');
  t.equal((await app.inject({ method: 'POST', url: '/fhir/Observation', headers: { ...auth, 'content-type': 'application/fhir+json' }, payload: '{"resourceType":"Observation","status":"final","code":{"text":"x"}}' })).statusCode, 403, 'read scopes do not create');
  t.equal((await app.inject({ method: 'POST', url: '/fhir', headers: { ...auth, 'content-type': 'application/fhir+json' }, payload: JSON.stringify({ resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: 'Patient/p1' } }] }) })).json().entry[0].response.status, '403 Forbidden', 'batch entries are checked');
});

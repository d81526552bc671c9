// FHIR date, dateTime and instant values as the half-open time range they denote: a date of
// precision year covers the whole year (https://hl7.org/fhir/R4/search.html#date). Values
// without a time zone are read as UTC.
const DATE_RE =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

export interface TimeRange {
  /** inclusive start, epoch ms */
  start: number;
  /** exclusive end, epoch ms */
  end: number;
}

export function parseDateRange(value: string): TimeRange | undefined {
  // '+' in a query string arrives as a space when the client did not escape it
  const m = DATE_RE.exec(value.replace(' ', '+'));
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, tz] = m;
  if (h !== undefined && tz === undefined && mi === undefined) return undefined;
  const year = Number(y);
  const month = mo ? Number(mo) - 1 : 0;
  const day = d ? Number(d) : 1;
  if (month > 11 || day < 1 || day > 31) return undefined;
  // the clock and offset ranges of R4's dateTime (a leap second 60 allowed; offsets -14:00…+14:00)
  if (h !== undefined && (Number(h) > 23 || Number(mi) > 59 || (s !== undefined && Number(s) > 60))) return undefined;
  if (tz && tz !== 'Z' && (Number(tz.slice(1, 3)) * 60 + Number(tz.slice(4, 6)) > 14 * 60 || Number(tz.slice(4, 6)) > 59)) return undefined;
  let offset = 0;
  if (tz && tz !== 'Z') offset = (tz[0] === '-' ? -1 : 1) * (Number(tz.slice(1, 3)) * 60 + Number(tz.slice(4, 6))) * 60000;
  const ms = frac ? Number(frac.slice(0, 3).padEnd(3, '0')) : 0;
  const local = Date.UTC(year, month, day, h ? Number(h) : 0, mi ? Number(mi) : 0, s ? Number(s) : 0, ms);
  // the day must exist (no 31 April); checked before the time, which a leap second 23:59:60 moves into the next day
  if (Number.isNaN(local) || new Date(Date.UTC(year, month, day)).getUTCDate() !== day) return undefined;
  let localEnd: number;
  if (!mo) localEnd = Date.UTC(year + 1, 0, 1);
  else if (!d) localEnd = Date.UTC(year, month + 1, 1);
  else if (!h) localEnd = Date.UTC(year, month, day + 1);
  else if (!s) localEnd = local + 60000;
  else if (!frac) localEnd = local + 1000;
  else localEnd = local + Math.max(1, 10 ** (3 - Math.min(frac.length, 3)));
  return { start: local - offset, end: localEnd - offset };
}

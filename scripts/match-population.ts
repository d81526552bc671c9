// A cross-border test population for Patient/$match: the same people registered in two or
// three countries with the variation real records show, and the people a matcher must NOT join:
//   - spelling variants and orthographies: Mohammed/Muhammad, Somali official orthography
//     (Maxamed, Cumar, Xirsi, Cismaan), Ukrainian names in their Russian form (Oleksandr/
//     Aleksandr) and in German, Polish or French transliteration (Schewtschenko, Szewczenko,
//     Chevtchenko, Jegorow, Polischtschuk);
//   - records only in the native script (Arabic, Persian, Urdu, Pashto, Sorani Kurdish, Ge'ez,
//     Cyrillic), and only in Greek as Greek reception centres write them;
//   - a second given name dropped, doubled letters and one-letter typos, family and given swapped;
//   - birth dates defaulted to 1 January, known only by the year, day and month swapped, a year off;
//   - twins (same family name and birth date, often similar given names: Hassan/Hussein,
//     Amina/Amira), siblings, and unrelated namesakes (same name, another birth date);
//   - absent people: queried but never stored, half of them a twin, sibling or namesake of
//     someone who is stored.
// Independence from the matcher: every native-script and orthographic form below is written out
// by hand from the sources named in docs/match.md (not produced by src/mpi/names.ts run in
// reverse), and the Greek forms come from this file's own Latin→Greek rules, the direction Greek
// registrars write, which the matcher never uses (it reads Greek→Latin with its own table).
// Deterministic (seeded). Used by scripts/bench/match.ts, scripts/bench/match-1m.ts and
// test/mpi/match.test.ts.
import type { Patient } from 'fhir/r4.js';
import { prng } from './lib/prng.ts';

export interface Registration {
  person: number;
  patient: Patient;
}

export interface Population {
  /** stored records, several per person */
  records: Registration[];
  /** queries for people who were never stored (their person numbers are not in records) */
  absent: Registration[];
}

/** One name: its Latin spellings (first = commonest), its native-script form, other orthographies. */
interface Name {
  latin: string[];
  native?: string;
  /** official or foreign orthographies: Somali Latin, Russian form, German/Polish/French transliteration */
  ortho?: string[];
}
const n = (latin: string, native?: string, ortho?: string): Name => ({ latin: latin.split('|'), native, ortho: ortho?.split('|') });

interface Origin {
  country: string;
  male: Name[];
  female: Name[];
  family: Name[];
}

const ARABIC: Origin = {
  country: 'SY',
  male: [
    n('Mohammed|Muhammad|Mohamad|Mohamed|Muhammed', 'محمد'), n('Ahmed|Ahmad|Achmed', 'أحمد'), n('Hussein|Husain|Hussain', 'حسين'), n('Hassan|Hasan', 'حسن'),
    n('Ali', 'علي'), n('Omar|Umar', 'عمر'), n('Khaled|Khalid|Chaled', 'خالد'), n('Youssef|Yusuf|Yousef', 'يوسف'), n('Abdullah|Abdallah', 'عبدالله'),
    n('Mustafa|Mostafa', 'مصطفى'), n('Ibrahim|Ebrahim', 'إبراهيم'), n('Karim|Kareem', 'كريم'), n('Mahmoud|Mahmud', 'محمود'), n('Amer', 'عامر'), n('Amir|Ameer', 'أمير'),
    n('Samir|Sameer', 'سمير'), n('Jamal|Gamal', 'جمال'), n('Kamal', 'كمال'), n('Walid|Waleed', 'وليد'), n('Tarek|Tariq|Tarik', 'طارق'), n('Bashar', 'بشار'), n('Yasser|Yasir', 'ياسر'),
  ],
  female: [
    n('Fatima|Fatma|Fatimah', 'فاطمة'), n('Aisha|Aishah|Ayesha', 'عائشة'), n('Maryam|Mariam', 'مريم'), n('Zainab|Zeinab|Zaynab', 'زينب'), n('Amina|Aminah', 'أمينة'), n('Amira|Ameera', 'أميرة'),
    n('Nour|Noor|Nur', 'نور'), n('Layla|Leila|Laila', 'ليلى'), n('Samira|Sameera', 'سميرة'), n('Rania', 'رانيا'), n('Rana', 'رنا'), n('Hala', 'هالة'), n('Huda|Houda', 'هدى'),
    n('Lina', 'لينا'), n('Lana', 'لانا'), n('Reem|Rim', 'ريم'), n('Dima', 'ديما'), n('Yasmin|Yasmine|Jasmin', 'ياسمين'),
  ],
  family: [
    n('Al-Hassan|Alhassan|Al Hasan', 'الحسن'), n('Haddad|Hadad', 'حداد'), n('Khalil|Chalil', 'خليل'), n('Mansour|Mansur', 'منصور'), n('Nasser|Naser', 'ناصر'),
    n('Darwish|Darwich|Derwisch', 'درويش'), n('Jaber|Jabir|Djaber', 'جابر'), n('Saleh|Salih', 'صالح'), n('Hamdan', 'حمدان'), n('Othman|Osman|Uthman', 'عثمان'),
    n('Kassem|Qasim|Kasem', 'قاسم'), n('Al-Ali|Alali', 'العلي'), n('Haj Ahmad|Hajahmad', 'حاج أحمد'), n('Shami|Chami', 'شامي'), n('Zaher|Zahir', 'زاهر'),
    n('Abboud|Abbud', 'عبود'), n('Sabbagh|Sabagh', 'صباغ'), n('Najjar|Najar|Nadjar', 'نجار'), n('Homsi|Al-Homsi', 'حمصي'), n('Halabi', 'حلبي'),
  ],
};
const PERSIAN: Origin = {
  country: 'IR',
  male: [
    n('Reza', 'رضا'), n('Farid|Fareed', 'فرید'), n('Mehdi|Mahdi', 'مهدی'), n('Hamid', 'حمید'), n('Javad|Jawad', 'جواد'), n('Hossein|Hosein', 'حسین'), n('Ali', 'علی'),
    n('Morteza|Mortaza', 'مرتضی'), n('Behrouz|Behruz', 'بهروز'), n('Kourosh|Kurosh', 'کوروش'), n('Saeed|Said|Saeid', 'سعید'), n('Omid', 'امید'),
  ],
  female: [
    n('Parisa|Parissa', 'پریسا'), n('Zahra', 'زهرا'), n('Fatemeh|Fatemah', 'فاطمه'), n('Shirin', 'شیرین'), n('Leila|Leyla', 'لیلا'), n('Maryam', 'مریم'),
    n('Mahsa', 'مهسا'), n('Niloufar|Niloofar|Nilufar', 'نیلوفر'), n('Zhila|Jila', 'ژیلا'), n('Golnaz', 'گلناز'),
  ],
  family: [
    n('Ahmadi|Ahmady', 'احمدی'), n('Hosseini|Husseini|Hoseini', 'حسینی'), n('Rahimi|Rahimy', 'رحیمی'), n('Karimi|Karimy', 'کریمی'), n('Mohammadi|Muhammadi', 'محمدی'),
    n('Sultani|Soltani', 'سلطانی'), n('Rezaei|Rezaee|Rezai', 'رضایی'), n('Jafari|Jafary|Djafari', 'جعفری'), n('Hashemi|Hachemi', 'هاشمی'), n('Sadeghi|Sadeqi', 'صادقی'),
    n('Ghorbani|Qorbani|Gorbani', 'قربانی'), n('Azizi', 'عزیزی'), n('Nazari', 'نظری'), n('Rostami', 'رستمی'), n('Kazemi|Kasemi', 'کاظمی'),
  ],
};
const URDU_PASHTO: Origin = {
  country: 'AF',
  male: [
    n('Imran', 'عمران'), n('Bilal', 'بلال'), n('Tariq|Tarik', 'طارق'), n('Zahid', 'زاہد'), n('Faisal|Faysal', 'فیصل'), n('Naveed|Navid', 'نوید'), n('Waheed|Wahid', 'وحید'),
    n('Gul|Gol', 'ګل'), n('Zabihullah|Zabiullah', 'ذبیح‌الله'), n('Hekmatullah|Hikmatullah', 'حکمت‌الله'),
  ],
  female: [n('Ayesha|Aisha', 'عائشہ'), n('Sana', 'ثنا'), n('Nadia|Nadiya', 'نادیہ'), n('Saima', 'صائمہ'), n('Malalai|Malalay', 'ملالۍ'), n('Palwasha', 'پلوشه'), n('Zarghona|Zarghuna', 'زرغونه')],
  family: [
    n('Khan', 'خان'), n('Shah', 'شاہ'), n('Rehman|Rahman', 'رحمان'), n('Ahmadzai', 'احمدزی'), n('Yousafzai|Yusufzai', 'یوسفزی'), n('Durrani|Durani', 'درانی'),
    n('Hotak', 'هوتک'), n('Stanikzai|Stanekzai', 'ستانکزی'), n('Popal', 'پوپل'), n('Niazi', 'نیازی'), n('Chaudhry|Chaudhary|Choudhry', 'چوہدری'), n('Butt|But', 'بٹ'),
  ],
};
// Sorani in Arabic script (the Kurdistan Region's orthography), Kurmanji in the Hawar Latin alphabet
const KURDISH: Origin = {
  country: 'IQ',
  male: [n('Azad', 'ئازاد', 'Azad'), n('Dilshad|Dilshat', 'دڵشاد', 'Dilşad'), n('Sherko|Shirko', 'شێرکۆ', 'Şêrko'), n('Karwan|Karvan', 'کاروان', 'Karwan'), n('Rebwar|Rebuar', 'ڕێبوار', 'Rêbwar'), n('Chiya|Chia', 'چیا', 'Çiya')],
  female: [n('Rojda', 'ڕۆژدا', 'Rojda'), n('Hevin|Hivin', 'هێڤین', 'Hêvîn'), n('Shilan', 'شیلان', 'Şîlan'), n('Nasrin|Nasreen', 'نەسرین', 'Nesrîn'), n('Berivan|Beriwan', 'بەریڤان', 'Berîvan')],
  family: [n('Barzani', 'بارزانی', 'Barzanî'), n('Talabani', 'تاڵەبانی', 'Talebanî'), n('Ahmad|Ahmed', 'ئەحمەد', 'Ehmed'), n('Hawrami|Hewrami', 'هەورامی', 'Hewramî'), n('Zebari', 'زێباری', 'Zêbarî'), n('Salih|Saleh', 'ساڵح', 'Salih')],
};
const TIGRINYA: Origin = {
  country: 'ER',
  male: [
    n('Tesfaye|Tesfay', 'ተስፋዬ'), n('Yonas|Yonatan', 'ዮናስ'), n('Yohannes|Yohanes|Johannes', 'ዮሃንስ'), n('Dawit|Dawid', 'ዳዊት'), n('Daniel', 'ዳንኤል'),
    n('Filmon|Philemon', 'ፊልሞን'), n('Henok|Enoch', 'ሄኖክ'), n('Mebrahtu|Mebrahtom', 'መብራህቱ'), n('Tsegay|Tsegai', 'ጸጋይ'), n('Berhane|Berhe', 'ብርሃነ'),
  ],
  female: [
    n('Selam|Salam', 'ሰላም'), n('Senait|Sennait', 'ሰናይት'), n('Helen', 'ሄለን'), n('Mehret|Mihret', 'ምሕረት'), n('Tsega|Tsegga', 'ጸጋ'), n('Saba', 'ሳባ'),
    n('Luwam|Luam', 'ሉዋም'), n('Feven|Fiven', 'ፌቨን'), n('Winta|Wintana', 'ዊንታ'),
  ],
  family: [
    n('Tekle|Teklé', 'ተክሌ'), n('Gebremariam|Gebre Mariam|Ghebremariam', 'ገብረማርያም'), n('Haile|Hayle', 'ኃይሌ'), n('Berhane|Berhani', 'ብርሃነ'), n('Tesfamariam|Tesfa Mariam', 'ተስፋማርያም'),
    n('Kidane', 'ኪዳነ'), n('Habte|Habtay', 'ሃብተ'), n('Woldemichael|Weldemichael|Wolde Michael', 'ወልደሚካኤል'), n('Ghebreyesus|Gebreyesus', 'ገብረየሱስ'), n('Asfaha', 'ኣስፍሃ'),
  ],
};
// Somali: the usual English-style spelling, and the official orthography (1972) in `ortho`
const SOMALI: Origin = {
  country: 'SO',
  male: [
    n('Mohamed|Mohammed', undefined, 'Maxamed'), n('Abdi', undefined, 'Cabdi'), n('Hassan', undefined, 'Xasan'), n('Omar', undefined, 'Cumar'), n('Osman', undefined, 'Cismaan'),
    n('Ahmed', undefined, 'Axmed'), n('Ali', undefined, 'Cali'), n('Abdirahman|Abdurahman', undefined, 'Cabdiraxmaan'), n('Hussein', undefined, 'Xuseen'), n('Abdullahi', undefined, 'Cabdullaahi'), n('Yusuf', undefined, 'Yuusuf'),
  ],
  female: [
    n('Fadumo|Faduma|Fatuma', undefined, 'Faadumo'), n('Hawa', undefined, 'Xaawo'), n('Halima|Halimo', undefined, 'Xaliimo'), n('Asha', undefined, 'Caasha'), n('Ayan', undefined, 'Ayaan'),
    n('Hodan', undefined, 'Hodan'), n('Amina', undefined, 'Aamina'), n('Khadija', undefined, 'Khadiija'), n('Sahra|Sahro', undefined, 'Sahro'), n('Ubah', undefined, 'Ubax'),
  ],
  family: [
    n('Warsame|Warsama', undefined, 'Warsame'), n('Mohamud|Mohamoud', undefined, 'Maxamuud'), n('Hirsi', undefined, 'Xirsi'), n('Abdi', undefined, 'Cabdi'), n('Farah', undefined, 'Faarax'),
    n('Jama', undefined, 'Jaamac'), n('Egal', undefined, 'Cigaal'), n('Hussein', undefined, 'Xuseen'), n('Osman', undefined, 'Cismaan'), n('Aden', undefined, 'Aadan'), n('Nur|Noor', undefined, 'Nuur'), n('Elmi', undefined, 'Cilmi'),
  ],
};
// Ukrainian names: national (KMU 2010) spellings, the Ukrainian Cyrillic, and in `ortho` the
// Russian form and German (Duden), Polish and French transliterations
const UKRAINIAN: Origin = {
  country: 'UA',
  male: [
    n('Oleksandr|Oleksander', 'Олександр', 'Aleksandr|Alexander|Aleksander'), n('Dmytro', 'Дмитро', 'Dmitry|Dmitrij|Dmitri'), n('Andriy|Andrii', 'Андрій', 'Andrey|Andrej|Andrzej'),
    n('Serhiy|Serhii', 'Сергій', 'Sergey|Sergej|Siergiej'), n('Mykola', 'Микола', 'Nikolay|Nikolai|Mikola'), n('Volodymyr', 'Володимир', 'Vladimir|Wladimir|Wolodymyr'),
    n('Yuriy|Yurii', 'Юрій', 'Yuri|Jurij|Juri'), n('Ihor', 'Ігор', 'Igor'), n('Mykhailo', 'Михайло', 'Mikhail|Michail|Michajlo'), n('Vasyl', 'Василь', 'Vasily|Wassili|Wasyl'),
  ],
  female: [
    n('Olha', 'Ольга', 'Olga'), n('Olena', 'Олена', 'Elena|Jelena|Helena'), n('Oksana', 'Оксана', 'Oxana'), n('Yuliia|Yuliya', 'Юлія', 'Yulia|Julija|Julia'),
    n('Kateryna', 'Катерина', 'Ekaterina|Jekaterina|Katarzyna'), n('Nataliia|Natalia', 'Наталія', 'Natalya|Natalja'), n('Iryna', 'Ірина', 'Irina'), n('Halyna', 'Галина', 'Galina|Halina'),
    n('Tetiana|Tetyana', 'Тетяна', 'Tatiana|Tatjana|Tatiana'), n('Svitlana', 'Світлана', 'Svetlana|Swetlana'),
  ],
  family: [
    n('Shevchenko', 'Шевченко', 'Schewtschenko|Szewczenko|Chevtchenko'), n('Kovalenko', 'Коваленко', 'Kowalenko'), n('Bondarenko', 'Бондаренко', 'Bondarenco'),
    n('Tkachenko', 'Ткаченко', 'Tkatschenko|Tkaczenko'), n('Polishchuk', 'Поліщук', 'Polischtschuk|Poliszczuk'), n('Yehorov|Iehorov', 'Єгоров', 'Egorov|Jegorow|Jegorov'),
    n('Hryhorenko', 'Григоренко', 'Grigorenko|Grygorenko'), n('Kravchenko', 'Кравченко', 'Krawtschenko|Krawczenko'), n('Melnyk', 'Мельник', 'Melnik|Melnick'),
    n('Boyko|Boiko', 'Бойко', 'Bojko'), n('Kovalchuk', 'Ковальчук', 'Kowaltschuk|Kowalczuk'), n('Zhuk', 'Жук', 'Schuk|Żuk'), n('Savchenko', 'Савченко', 'Sawtschenko|Sawczenko'),
  ],
};
// Eritreans, Ethiopians and Somalis carry their father's given name as the family name, and
// Arabic, Kurdish and Afghan family names are often a forefather's given name (Hassan, Ahmad)
for (const o of [ARABIC, URDU_PASHTO, KURDISH, TIGRINYA, SOMALI]) o.family.push(...o.male.filter((m) => !o.family.some((f) => f.latin[0] === m.latin[0])));
const ORIGINS = [ARABIC, ARABIC, PERSIAN, URDU_PASHTO, KURDISH, TIGRINYA, SOMALI, UKRAINIAN, UKRAINIAN];

// twin and sibling pairs with similar given names, the hardest people to keep apart
const SIMILAR: [string, string][] = [
  ['Hassan', 'Hussein'], ['Amina', 'Amira'], ['Amer', 'Amir'], ['Rana', 'Rania'], ['Lina', 'Lana'], ['Jamal', 'Kamal'], ['Mohammed', 'Mahmoud'],
  ['Yonas', 'Yohannes'], ['Dawit', 'Daniel'], ['Olha', 'Olena'], ['Mykola', 'Mykhailo'], ['Zahra', 'Zhila'], ['Samir', 'Amer'], ['Hala', 'Huda'],
];

// Greek registrars' Latin→Greek (the population's own rules: sounds Greek lacks are written with
// the nearest letters, b/d/g/j with μπ/ντ/γκ/τζ, h with χ, sh with σ, w with ου)
const TO_GREEK: [RegExp, string][] = [
  [/ch|kh/g, 'χ'], [/th/g, 'θ'], [/ph/g, 'φ'], [/sh/g, 'σ'], [/ou|oo|w/g, 'ου'], [/b/g, 'μπ'], [/d/g, 'ντ'], [/g/g, 'γκ'], [/j/g, 'τζ'], [/a/g, 'α'], [/e/g, 'ε'],
  [/i|y/g, 'ι'], [/o/g, 'ο'], [/u/g, 'ου'], [/h/g, 'χ'], [/k|c|q/g, 'κ'], [/l/g, 'λ'], [/m/g, 'μ'], [/n/g, 'ν'], [/p/g, 'π'], [/r/g, 'ρ'], [/s|z/g, 'σ'], [/t/g, 'τ'],
  [/v/g, 'β'], [/f/g, 'φ'], [/x/g, 'ξ'],
];

/** A Greek-script registration of a Latin name, as written at a Greek reception centre. */
export function greek(name: string): string {
  let s = name.toLowerCase().normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/[^a-z -]/g, '').replace(/(.)\1/g, '$1');
  for (const [re, to] of TO_GREEK) s = s.replace(re, to);
  return s.replace(/σ(\s|$)/g, 'ς$1').replace(/(^|\s)(.)/g, (_m, a: string, b: string) => a + b.toUpperCase());
}

const REGISTERS = [
  { country: 'GR', system: 'https://migfhir.org/fhir/sid/gr-paaypa' },
  { country: 'IT', system: 'http://hl7.it/sid/stp' },
  { country: 'DE', system: 'http://fhir.de/sid/gkv/kvid-10' },
  { country: 'SE', system: 'urn:oid:1.2.752.129.2.1.3.3' },
  { country: 'PL', system: 'urn:oid:2.16.840.1.113883.3.4424.1.1.616' },
  { country: 'HR', system: 'http://fhir.cezih.hr/specifikacije/identifikatori/MBO' },
];

interface Person {
  person: number;
  origin: Origin;
  female: boolean;
  given: Name;
  second?: Name;
  family: Name;
  y: number;
  m: number;
  d: number;
  passport?: string;
  /** birth order when a twin */
  twin?: number;
}

const pad = (x: number) => String(x).padStart(2, '0');

export function population(people: number, seed = 42, absentShare = 0.2): Population {
  const r = prng(seed);
  const pick = <T>(a: T[]): T => a[Math.floor(r() * a.length)];
  const byLatin = new Map<string, Name>();
  for (const o of ORIGINS) for (const x of [...o.male, ...o.female]) byLatin.set(x.latin[0], x);

  const newPerson = (person: number): Person => {
    const origin = pick(ORIGINS);
    const female = r() < 0.45;
    return {
      person,
      origin,
      female,
      given: pick(female ? origin.female : origin.male),
      second: r() < 0.3 ? pick(origin.male) : undefined, // the father's name, as a second given name
      family: pick(origin.family),
      y: 1950 + Math.floor(r() * 70),
      m: 1 + Math.floor(r() * 12),
      d: 1 + Math.floor(r() * 28),
      passport: r() < 0.4 ? `P${Math.floor(r() * 1e8).toString().padStart(8, '0')}` : undefined,
    };
  };
  /** a relative or namesake of p: a twin (same family, same birth date), a sibling, or an unrelated namesake */
  const related = (p: Person, person: number): Person => {
    const kind = r();
    const q = newPerson(person);
    q.origin = p.origin;
    q.family = p.family;
    q.female = r() < 0.45;
    q.given = pick(q.female ? p.origin.female : p.origin.male);
    if (kind < 0.5 && !p.twin) {
      // a twin (one per person): similar given names are common for twins
      q.y = p.y;
      q.m = p.m;
      q.d = p.d;
      q.second = p.second;
      const similar = SIMILAR.find((s) => s.includes(p.given.latin[0]));
      if (similar && r() < 0.6) {
        const other = byLatin.get(similar[0] === p.given.latin[0] ? similar[1] : similar[0]);
        if (other) {
          q.given = other;
          q.female = ORIGINS.some((o) => o.female.includes(other));
        }
      }
      if (q.given === p.given) q.given = pick((q.female ? p.origin.female : p.origin.male).filter((x) => x !== p.given));
      p.twin = 1;
      q.twin = 2;
    } else if (kind < 0.7) {
      q.second = p.second; // a sibling: same father, another birth date
      if (q.given === p.given) q.given = pick((q.female ? p.origin.female : p.origin.male).filter((x) => x !== p.given));
    } else {
      q.given = p.given; // an unrelated namesake: same names, another birth date
      q.female = p.female;
    }
    return q;
  };

  const persons: Person[] = [];
  const absentPersons: Person[] = [];
  for (let i = 0; i < people; i++) {
    const roll = r();
    if (roll < 0.12 && persons.length) persons.push(related(pick(persons), i)); // stored relatives and namesakes
    else if (roll < 0.12 + absentShare / 2 && persons.length) absentPersons.push(related(pick(persons), i));
    else if (roll < 0.12 + absentShare) absentPersons.push(newPerson(i));
    else persons.push(newPerson(i));
  }

  const registration = (p: Person, reg: (typeof REGISTERS)[number]): Patient => {
    const variant = (x: Name) => {
      const v = r();
      if (x.ortho && v < 0.3) return pick(x.ortho);
      return v < 0.65 ? x.latin[0] : pick(x.latin);
    };
    const typo = (s: string) => {
      if (s.length < 4 || r() > 0.06) return s; // one name word in 16 carries a slip
      const i = 1 + Math.floor(r() * (s.length - 2));
      const k = r();
      if (k < 0.4) return s.slice(0, i) + s[i] + s.slice(i); // a doubled letter
      if (k < 0.7) return s.slice(0, i) + s.slice(i + 1); // a dropped letter
      return s.slice(0, i) + s[i + 1] + s[i] + s.slice(i + 2); // two letters swapped
    };
    let g = typo(variant(p.given));
    let f = typo(variant(p.family));
    let s = p.second && r() < 0.6 ? variant(p.second) : undefined; // the second given name is often dropped
    const script = r();
    const names: NonNullable<Patient['name']> = [];
    if (reg.country === 'GR' && script < 0.6) {
      // Greek reception centres: often only the Greek form
      g = greek(g);
      f = greek(f);
      if (s) s = greek(s);
      names.push({ family: f, given: s ? [g, s] : [g] });
      if (script < 0.2) names.push({ use: 'official', family: variant(p.family), given: [variant(p.given)] });
    } else if (script < 0.15 && p.given.native && p.family.native) {
      // only the native script, as on a document scanned at registration
      names.push({ family: p.family.native, given: s && p.second?.native ? [p.given.native, p.second.native] : [p.given.native] });
    } else {
      const swap = r() < 0.05; // family and given fields swapped at entry
      names.push(swap ? { family: g, given: [f] } : { family: f, given: s ? [g, s] : [g] });
      if (script < 0.3 && p.given.native && p.family.native) names.push({ use: 'official', family: p.family.native, given: [p.given.native] });
    }
    let birthDate = `${p.y}-${pad(p.m)}-${pad(p.d)}`;
    const e = r();
    if (e < 0.08 && p.d <= 12 && p.d !== p.m) birthDate = `${p.y}-${pad(p.d)}-${pad(p.m)}`;
    else if (e < 0.16) birthDate = `${p.y}`;
    else if (e < 0.26) birthDate = `${p.y}-01-01`;
    else if (e < 0.29) birthDate = `${p.y + (r() < 0.5 ? 1 : -1)}-${pad(p.m)}-${pad(p.d)}`;
    const identifier: NonNullable<Patient['identifier']> = [{ system: reg.system, value: `${reg.country}${p.person}-${Math.floor(r() * 1e6)}` }];
    if (p.passport && r() < 0.5) identifier.push({ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'PPN' }] }, system: `urn:iso:std:iso:3166:-1:${p.origin.country}:passport`, value: p.passport });
    return {
      resourceType: 'Patient',
      id: `${reg.country.toLowerCase()}-${p.person}`,
      identifier,
      name: names,
      gender: r() < 0.01 ? (p.female ? 'male' : 'female') : p.female ? 'female' : 'male',
      birthDate,
      ...(p.twin && r() < 0.3 ? { multipleBirthInteger: p.twin } : {}),
      ...(r() < 0.5 ? { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-birthPlace', valueAddress: { country: p.origin.country } }] } : {}),
    };
  };

  const records: Registration[] = [];
  for (const p of persons) {
    const count = 1 + (r() < 0.75 ? 1 : 0) + (r() < 0.25 ? 1 : 0);
    for (const reg of [...REGISTERS].sort(() => r() - 0.5).slice(0, count)) records.push({ person: p.person, patient: registration(p, reg) });
  }
  const absent = absentPersons.map((p) => ({ person: p.person, patient: registration(p, pick(REGISTERS)) }));
  return { records, absent };
}

export interface MatchEvaluation {
  people: number;
  records: number;
  byGrade: Record<string, { returned: number; correct: number; precision: number }>;
  truePairs: number;
  recallCertainProbable: number;
  recallAny: number;
  absentQueries: number;
  /** share of queries for absent people answered with a certain or probable match */
  absentCertainProbable: number;
}

/** Precision per grade, recall, and false answers for absent people, from $match answers (query id → ids returned with grades). */
export function evaluate(pop: Population, answers: Map<string, { id: string; grade: string }[]>): MatchEvaluation {
  const regs = pop.records;
  const personOf = new Map(regs.map((x) => [x.patient.id!, x.person]));
  const byGrade: MatchEvaluation['byGrade'] = {};
  let truePairs = 0;
  let foundCP = 0;
  let foundAny = 0;
  const sizes = new Map<number, number>();
  for (const x of regs) sizes.set(x.person, (sizes.get(x.person) ?? 0) + 1);
  const tally = (x: Registration, key: string) => {
    const correct = new Set<string>();
    const correctCP = new Set<string>();
    let wrongCP = false;
    for (const a of answers.get(key) ?? []) {
      const ok = personOf.get(a.id) === x.person;
      const g = (byGrade[a.grade] ??= { returned: 0, correct: 0, precision: 0 });
      g.returned++;
      if (ok) {
        g.correct++;
        correct.add(a.id);
        if (a.grade === 'certain' || a.grade === 'probable') correctCP.add(a.id);
      } else if (a.grade === 'certain' || a.grade === 'probable') wrongCP = true;
    }
    return { correct, correctCP, wrongCP };
  };
  for (const x of regs) {
    truePairs += sizes.get(x.person)! - 1;
    const { correct, correctCP } = tally(x, x.patient.id!);
    foundCP += correctCP.size;
    foundAny += correct.size;
  }
  let absentCP = 0;
  for (const x of pop.absent) if (tally(x, `absent:${x.patient.id}`).wrongCP) absentCP++;
  for (const g of Object.values(byGrade)) g.precision = g.returned ? g.correct / g.returned : 1;
  return {
    people: sizes.size,
    records: regs.length,
    byGrade,
    truePairs,
    recallCertainProbable: truePairs ? foundCP / truePairs : 1,
    recallAny: truePairs ? foundAny / truePairs : 1,
    absentQueries: pop.absent.length,
    absentCertainProbable: pop.absent.length ? absentCP / pop.absent.length : 0,
  };
}

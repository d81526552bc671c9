import t from 'tap';
import { compareWord, jaroWinkler, latinize, nameKeys, nameWord } from '../../src/mpi/names.ts';

const agree = (a: string, b: string) => compareWord(nameWord(a), nameWord(b));
const shareKey = (a: string, b: string) => nameWord(a).keys.some((k) => nameWord(b).keys.includes(k));

t.test('the same name across scripts and orthographies shares a phonetic key and agrees', async (t) => {
  const groups = [
    ['Mohammed', 'Muhammad', 'Mohamad', 'Μωχάμεντ', 'محمد', 'Мухаммед', 'Maxamed'], // Arabic, Greek, Cyrillic, Somali
    ['Mansour', 'Mansur', 'منصور', 'Μανσούρ'],
    ['Fatima', 'Fatma', 'فاطمة', 'Φατιμά'],
    ['Hosseini', 'حسینی'], // Persian
    ['Zahra', 'زهرا'], // Persian: z-h, not the digraph zh
    ['Zabihullah', 'ذبیح‌الله'], // Pashto, with a zero-width non-joiner and Allah
    ['Chaudhry', 'چوہدری'], // Urdu
    ['Sherko', 'شێرکۆ', 'Şêrko'], // Sorani in Arabic script, Kurmanji in Hawar Latin
    ['Tesfaye', 'ተስፋዬ'], // Ge'ez
    ['Gebremariam', 'ገብረማርያም'],
    ['Hirsi', 'Xirsi'], // Somali official orthography
    ['Omar', 'Cumar'],
    ['Osman', 'Cismaan'],
    ['Shevchenko', 'Schewtschenko', 'Szewczenko', 'Chevtchenko', 'Шевченко'], // German, Polish, French, Ukrainian
    ['Polishchuk', 'Polischtschuk', 'Poliszczuk', 'Поліщук'],
    ['Yehorov', 'Jegorow', 'Egorov', 'Єгоров'],
    ['Zhuk', 'Schuk', 'Жук'],
    ['Olha', 'Olga', 'Ольга'],
    ['Al-Hassan', 'الحسن'],
  ];
  for (const g of groups) {
    for (const other of g.slice(1)) {
      t.ok(shareKey(g[0], other), `${g[0]} and ${other} share a key (${nameWord(g[0]).keys} / ${nameWord(other).keys})`);
      t.ok(['exact', 'phonetic'].includes(agree(g[0], other)), `${g[0]} and ${other} agree: ${agree(g[0], other)}`);
    }
  }
});

t.test('Ukrainian, Russian and Polish forms of one given name agree', async (t) => {
  t.equal(agree('Mykola', 'Nikolay'), 'exact');
  t.equal(agree('Olena', 'Elena'), 'exact');
  t.equal(agree('Kateryna', 'Katarzyna'), 'exact');
  t.equal(agree('Volodymyr', 'Vladimir'), 'exact');
});

t.test('spelling variants and one-letter slips agree; names that merely sound alike do not', async (t) => {
  for (const [a, b] of [['Mohhammed', 'Mohammed'], ['Tarek', 'Tariq'], ['Zahid', 'Zaid'], ['Abdallah', 'Abdullah'], ['Yusuf', 'Youssef'], ['Khaled', 'Chaled'], ['Jamal', 'Gamal'], ['Rebwar', 'Rebuar']]) {
    t.ok(['exact', 'phonetic'].includes(agree(a, b)), `${a} / ${b}: ${agree(a, b)}`);
  }
  // twins' names: the same consonants, other vowels
  for (const [a, b] of [['Hassan', 'Hussein'], ['Lina', 'Lana'], ['Mohammed', 'Mahmoud'], ['Mykola', 'Mykhailo'], ['Yonas', 'Yohannes']]) {
    t.ok(['similar', 'different'].includes(agree(a, b)), `${a} / ${b}: ${agree(a, b)}`);
  }
  // the long vowels Arabic script writes must be in the Latin spelling
  t.equal(agree('Lina', 'لينا'), 'exact');
  t.not(agree('Lana', 'لينا'), 'phonetic');
  t.equal(agree('Rania', 'رانيا'), 'exact');
  t.not(agree('Rana', 'رانيا'), 'phonetic');
  t.not(agree('Mohammed', 'محمود'), 'phonetic', 'محمود is Mahmoud');
  t.equal(agree('Ahmed', 'Petrenko'), 'different');
});

t.test('latinize, blocking keys and Jaro-Winkler', async (t) => {
  t.equal(latinize('Nguyễn'), 'nguyen');
  t.equal(latinize('Şêrko'), 'sherko');
  t.same(nameKeys('Al-Hassan Haddad'), ['KSN', 'KT'], 'particles (al) are no name word');
  t.ok(nameKeys('Μωχάμεντ').includes('MKMT'));
  t.ok(jaroWinkler('martha', 'marhta') > 0.96);
  t.equal(jaroWinkler('', 'x'), 0);
});

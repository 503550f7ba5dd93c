// Writes the reference ids the tokenizer tests compare against, from the Rust Hugging Face
// `tokenizers` library (0.22, through its native npm binding @anush008/tokenizers 0.6.0). Run once
// by hand; the tests read only what it writes (committed beside it):
//   corpus.jsonl              {"text"} per line: the texts both tokenizers are checked on
//   <name>.ids.jsonl          per corpus line: {"ids", "decoded"} (the library's decode(ids))
//   decode_cases.jsonl        {"tokenizer", "ids", "skip_special", "text"}: random ids, some ending
//                             inside a character, decoded by the library
//   variants.json             tokenizer.json variants (a JSON merge patch over a real file, or a
//                             whole small file) exercising options the real files do not use, with
//                             the library's ids for a small feature corpus
// Usage (after scripts/fetch_tokenizers.sh):
//   cd $(mktemp -d) && npm install @anush008/tokenizers@0.6.0 &&
//   NODE_PATH=$PWD/node_modules node /path/to/make_reference.js /var/cache/forge/tokenizers
'use strict';
const fs = require('fs');
const path = require('path');
const { Tokenizer } = require('@anush008/tokenizers');

const cache = process.argv[2] || '/var/cache/forge/tokenizers';
const out = __dirname;
const NAMES = ['deepseek_v3', 'qwen3'];

// Deterministic PRNG (mulberry32) so the corpus is the same on every run.
function rng(seed) {
  return () => {
    seed |= 0; seed = (seed + 0x6D2B79F5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function corpus() {
  const texts = [
    // English
    'Hello world',
    'The quick brown fox jumps over the lazy dog.',
    "I'm sure they'll say it's fine; we've done it, you'd agree. DON'T YOU'LL I'M",
    '  leading spaces, trailing spaces   ',
    'Mr. Smith paid $1,234.56 on 2024-03-15 at 10:30pm (approx. 3.5% more than last year).',
    'Line one\nLine two\r\nLine three\rLine four\n\n\nafter blank lines',
    'e-mail: someone@example.com, URL: https://example.org/path?q=1&r=two#frag',
    'ALL CAPS SENTENCE WITH NUMBERS 123 AND SYMBOLS !@#$%^&*()_+-=[]{}|;:\'",.<>/?`~',
    'Ｆｕｌｌｗｉｄｔｈ ｌｅｔｔｅｒｓ and ﬁ ﬂ ligatures, ² ³ ½ superscripts, Ⅻ roman',
    "long-s ſ and Kelvin K: 'ſ 'S 'T",
    // Code with tabs and trailing spaces
    'def f(x):\n\tif x > 0:\n\t\treturn x * 2   \n\treturn -x\t\t\n',
    '#include <stdio.h>\nint main(void) {\n    printf("%d\\n", 42);   \n    return 0;\n}\n',
    'for (int i = 0; i < n; ++i) { a[i] += b[i] << 2; }  // trailing   \t  \n',
    'const x = {"a": [1, 2, 3], "b": null, "c": true};\t\n  \n',
    '    indented four\n        indented eight\n\t\ttabs\n \t mixed \t \n',
    'SELECT id, name FROM users WHERE age >= 18 ORDER BY name DESC;',
    // Numbers of every length
    '0 1 12 123 1234 12345 123456 1234567 12345678 123456789 1234567890',
    '12345678901234567890123456789012345678901234567890',
    '3.14159265358979323846 -0.001 1e-10 6.022e23 +42 0x1F 0b1011 1_000_000',
    'Numbers glued: abc123def4567ghi89 x1y22z333 ٣٤٥ ١٢٣ ४५६ 〇一二三',
    // LaTeX
    'The answer is $\\boxed{\\frac{3}{4}}$.',
    '\\begin{align} x^2 + y^2 &= r^2 \\\\ \\int_0^\\infty e^{-x^2}\\,dx &= \\frac{\\sqrt{\\pi}}{2} \\end{align}',
    'Let $f(x) = \\sum_{n=1}^{\\infty} \\frac{(-1)^{n+1}}{n} x^n$, so $f(1) = \\ln 2 \\approx 0.693$.',
    '\\[ \\mathbb{E}[X] = \\mu,\\quad \\operatorname{Var}(X) = \\sigma^2 \\]',
    // CJK, Korean, Arabic and others
    '我爱自然语言处理。今天天气很好，我们去公园散步吧！',
    '日本語のテキスト：ひらがな、カタカナ、漢字が混ざっています。',
    '한국어 문장입니다. 안녕하세요, 반갑습니다!',
    'مرحبا بالعالم. هذه جملة باللغة العربية مع أرقام ١٢٣٤٥.',
    'Русский текст: Съешь же ещё этих мягких французских булок, да выпей чаю.',
    'Ελληνικά: Γαζέες καὶ μυρτιὲς δὲν θὰ βρῶ πιὰ στὸ χρυσαφὶ ξέφωτο.',
    'עברית: שלום עולם. हिन्दी: नमस्ते दुनिया। ไทย: สวัสดีชาวโลก',
    'Tiếng Việt có dấu: Tôi yêu tiếng Việt. Đây là một câu.',
    // Emoji with ZWJ and skin tones
    '👍 👍🏻 👍🏽 👍🏿 👋🏼 hello 🎉🎉🎉',
    'Family: 👨‍👩‍👧‍👦 couple: 👩‍❤️‍💋‍👨 tech: 👩🏽‍💻 flag: 🏳️‍🌈 🇯🇵🇺🇸',
    'Keycaps 1️⃣ 2️⃣ #️⃣ and variation ☺️ ☺︎ ❤️',
    // NFD text (decomposed)
    'Cafe\u0301 cre\u0300me bru\u0302le\u0301e, A\u030Angstro\u0308m, n\u0303',
    '\u1112\u1161\u11AB\u1100\u116E\u11A8\u110B\u1165 (Hangul jamo, NFD of 한국어)',
    'Vie\u0323\u0302t Nam, \u0065\u0301\u0065\u0300\u0065\u0302\u0065\u0308 stacked: a\u0301\u0302\u0303\u0304',
    'Composed é vs decomposed e\u0301 side by side: é e\u0301 é',
    // Special tokens glued to text (both files' tokens in both: plain text to the other)
    '<｜begin▁of▁sentence｜><｜User｜>What is 2+2?<｜Assistant｜><think>\n2+2=4</think>The answer is 4.<｜end▁of▁sentence｜>',
    'x<｜User｜>y<｜Assistant｜>z<｜end▁of▁sentence｜><｜end▁of▁sentence｜>w',
    '<|im_start|>user\nWhat is 7*6?<|im_end|>\n<|im_start|>assistant\n<think>\n7*6=42\n</think>\n\n\\boxed{42}<|im_end|>',
    'glued<|endoftext|>text<|im_end|><|im_start|>more<think></think>',
    'partial tokens: <｜User <|im_start <think <|endoftext| <｜end▁of▁sentence',
    ' <think> spaced </think> ',
    '<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{}\n```<｜tool▁call▁end｜>',
    // Very long words
    'Pneumonoultramicroscopicsilicovolcanoconiosis',
    'Supercalifragilisticexpialidocious'.repeat(40),
    'a'.repeat(3000),
    'ab'.repeat(1000) + ' ' + 'xyz'.repeat(500),
    'Ааааааааааааааааааааааааааааааааааааааааааааааааа'.repeat(20),
    '一'.repeat(500) + '二三四五六七八九十'.repeat(40),
    '9'.repeat(700),
    ' '.repeat(2000) + 'x' + '\t'.repeat(300) + '\n'.repeat(200),
    'aGVsbG8gd29ybGQgdGhpcyBpcyBiYXNlNjQgZW5jb2RlZCB0ZXh0IHdpdGhvdXQgYW55IHNwYWNlcw'.repeat(20),
    // Edge cases
    '',
    ' ',
    '\n',
    '\t',
    'a',
    '\u00A0non-breaking\u00A0spaces\u2009thin\u3000ideographic\u2028line\u2029para',
    'zero\u200Bwidth\u200Cjoiner\u200Dtest\uFEFFbom',
    'private use \uE000\uF8FF and astral 𝔸𝔹ℂ 𝟘𝟙𝟚 𐍈 🀄',
    'control chars \u0001\u0002\u001B[31mred\u001B[0m \u007F',
  ];
  // Random mixes of all of the above.
  const pools = [
    ['the', 'of', 'and', 'reasoning', 'model', 'token', 'Hello', 'WORLD', "don't", "it's", 'x', 'GRPO'],
    ['0', '7', '42', '365', '2024', '31415', '1000000', '3.14', '-1', '1/2'],
    ['我', '爱', '你', '中文', '文本', 'テスト', 'カタカナ', 'ひらがな', '한', '국어', '안녕'],
    ['مرحبا', 'عالم', 'Привет', 'мир', 'Γειά', 'שלום', 'नमस्ते'],
    ['👍', '👍🏽', '👨‍👩‍👧', '🎉', '❤️', '🇫🇷', '👩🏿‍🔬', '😀'],
    ['e\u0301', 'a\u0308', 'n\u0303', '\u1100\u1161', 'o\u0302\u0301', 'ﬁ', '½', 'Ｋ'],
    ['<｜User｜>', '<｜Assistant｜>', '<｜end▁of▁sentence｜>', '<|im_start|>', '<|im_end|>', '<think>', '</think>', '<|endoftext|>'],
    ['\\frac{1}{2}', '\\boxed{7}', '$x^2$', '\\sqrt{2}', '\\alpha', '\\sum_{i=1}^n', '{', '}', '\\\\'],
    [' ', '  ', '\t', '\n', '\r\n', ' \n', '\t\t', '   ', '\n\n'],
    ['.', ',', '!', '?', '...', '--', '(', ')', '"', "'", ';', ':', '#', '@', '%', '&&', '->', '=='],
  ];
  const random = rng(20240917);
  for (let line = 0; line < 160; ++line) {
    const parts = 4 + Math.floor(random() * 40);
    let text = '';
    for (let p = 0; p < parts; ++p) {
      const pool = pools[Math.floor(random() * pools.length)];
      text += pool[Math.floor(random() * pool.length)];
      if (random() < 0.4) text += ' ';
    }
    texts.push(text);
  }
  return texts;
}

// Features the two real files do not use, as JSON merge patches over a real file.
function variants(qwenAdded) {
  const byteLevel = (prefix, regex) => ({ type: 'ByteLevel', add_prefix_space: prefix, trim_offsets: false, use_regex: regex });
  const split = (pattern, behavior, invert) => ({ type: 'Split', pattern, behavior, invert });
  const added = (id, content, o) => Object.assign({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: false }, o);
  const list = [
    { name: 'nfkc', base: 'qwen3', patch: { normalizer: { type: 'NFKC' } } },
    { name: 'nfd_sequence', base: 'qwen3', patch: { normalizer: { type: 'Sequence', normalizers: [{ type: 'NFD' }] } } },
    { name: 'gpt2_byte_level', base: 'qwen3', patch: { normalizer: null, pre_tokenizer: byteLevel(true, true) } },
    { name: 'digits_grouped', base: 'qwen3', patch: { pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'Digits', individual_digits: false }, byteLevel(false, true)] } } },
    { name: 'digits_individual', base: 'deepseek_v3', patch: { pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'Digits', individual_digits: true }, byteLevel(false, false)] } } },
  ];
  for (const behavior of ['Removed', 'Isolated', 'MergedWithPrevious', 'MergedWithNext', 'Contiguous']) {
    for (const invert of [false, true]) {
      list.push({ name: `split_regex_${behavior}_${invert ? 'inverted' : 'plain'}`, base: 'qwen3',
        patch: { pre_tokenizer: { type: 'Sequence', pretokenizers: [split({ Regex: '\\s+|[,.]' }, behavior, invert), byteLevel(false, false)] } } });
    }
    list.push({ name: `split_string_${behavior}`, base: 'qwen3',
      patch: { pre_tokenizer: { type: 'Sequence', pretokenizers: [split({ String: ', ' }, behavior, false), byteLevel(false, false)] } } });
  }
  list.push({ name: 'ignore_merges', base: 'qwen3', patch: { model: { ignore_merges: true } } });
  list.push({ name: 'template_processing', base: 'qwen3', patch: { post_processor: {
    type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: '<|im_start|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '<|im_end|>', type_id: 0 } }],
    pair: [{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
    special_tokens: { '<|im_start|>': { id: '<|im_start|>', ids: [151644], tokens: ['<|im_start|>'] }, '<|im_end|>': { id: '<|im_end|>', ids: [151645], tokens: ['<|im_end|>'] } } } } });
  list.push({ name: 'added_token_options', base: 'qwen3', patch: {
    normalizer: { type: 'NFKC' },
    added_tokens: qwenAdded.concat([
      added(151669, '<mask>', { lstrip: true, special: true }),
      added(151670, '[SEP]', { rstrip: true, special: true }),
      added(151671, 'word', { single_word: true }),
      added(151672, 'ﬁx', { normalized: true }),
      added(151673, '<both>', { lstrip: true, rstrip: true }),
      added(151674, 'Ġcat', { normalized: true }),
    ]) } });
  return list;
}

const featureTexts = [
  'Hello, world. This is  a test,with  commas, and. dots..',
  'numbers 1 22 333 4444 55555 and ١٢٣ ½ ²',
  'ﬁ ﬁx fix ＦＵＬＬ Ｋ ℌ ① ㈱ e\u0301 Å',
  'a <mask> b  <mask>c d<mask>   e',
  'x [SEP] y [SEP]   z[SEP]\n w',
  'word words sword word, (word) wordy a_word 1word word1 word',
  'the <both>  middle  <both>end <both>',
  'cat Ġcat the cat catalog',
  ',  ,, . , , ,. ,',
  '  spaces   everywhere  ',
  '',
  'Hello',
  '<|im_start|>user\nhi<|im_end|>',
  '我爱你 한국어 👍🏽 \t tab\n',
];

// A small byte-level BPE whose vocabulary lacks a few bytes but has "<0xXX>" tokens for them.
function byteFallbackFile() {
  const alphabet = [];
  const ranges = [[0x21, 0x7e], [0xa1, 0xac], [0xae, 0xff]];
  const printable = new Set();
  for (const [a, b] of ranges) for (let c = a; c <= b; ++c) printable.add(c);
  let n = 0;
  const chars = [];
  for (let b = 0; b < 256; ++b) chars.push(String.fromCodePoint(printable.has(b) ? b : 256 + n++));
  const missing = new Set([0xE4, 0xBD, 0xA0, 0x8D]);  // bytes of 你 and 珍
  const vocab = {};
  let id = 0;
  for (let b = 0; b < 256; ++b) if (!missing.has(b)) vocab[chars[b]] = id++;
  // The library falls back to "<0xXX>" for the UTF-8 bytes of the byte's alphabet character: 0xE4
  // is 'ä' (C3 A4), 0xBD is '½' (C2 BD); 0xA0 and 0x8D ('ł' U+0142, 'į' U+012F) have none: dropped.
  for (const b of [0xC3, 0xA4, 0xC2, 0xBD]) vocab['<0x' + b.toString(16).toUpperCase().padStart(2, '0') + '>'] = id++;
  const merges = [['h', 'e'], ['l', 'l'], ['he', 'll'], ['hell', 'o'], [chars[0x20], 'w'], ['Ġw', 'o'], ['o', 'r']];
  for (const [a, b] of merges) vocab[a + b] = id++;
  return {
    version: '1.0', truncation: null, padding: null, added_tokens: [],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: false, byte_fallback: true, vocab, merges: merges.map(([a, b]) => a + ' ' + b) },
  };
}

async function encodeAll(tokenizer, texts, addSpecial) {
  const ids = [];
  for (const t of texts) ids.push((await tokenizer.encode(t, null, { addSpecialTokens: addSpecial })).getIds());
  return ids;
}

(async () => {
  const texts = corpus();
  fs.writeFileSync(path.join(out, 'corpus.jsonl'), texts.map((t) => JSON.stringify({ text: t })).join('\n') + '\n');
  const files = {};
  const decodeCases = [];
  const random = rng(7);
  for (const name of NAMES) {
    const file = path.join(cache, name, 'tokenizer.json');
    files[name] = JSON.parse(fs.readFileSync(file, 'utf8'));
    const tokenizer = Tokenizer.fromFile(file);
    const lines = [];
    for (const t of texts) {
      const ids = (await tokenizer.encode(t, null, { addSpecialTokens: false })).getIds();
      lines.push(JSON.stringify({ ids, decoded: await tokenizer.decode(ids, false) }));
    }
    fs.writeFileSync(path.join(out, `${name}.ids.jsonl`), lines.join('\n') + '\n');
    // Random id sequences (many cut a character in two), decoded with and without specials.
    const size = tokenizer.getVocabSize(true);
    const specials = files[name].added_tokens.filter((a) => a.special).map((a) => a.id);
    for (let k = 0; k < 40; ++k) {
      const ids = [];
      const n = 1 + Math.floor(random() * 12);
      for (let i = 0; i < n; ++i) {
        ids.push(random() < 0.15 ? specials[Math.floor(random() * specials.length)]
                                 : Math.floor(random() * size));
      }
      // Keep only ids the library knows (it drops unknown ones silently; Forge reports them).
      const known = ids.filter((id) => tokenizer.idToToken(id) !== null);
      for (const skip of [false, true]) {
        decodeCases.push({ tokenizer: name, ids: known, skip_special: skip, text: await tokenizer.decode(known, skip) });
      }
    }
  }
  fs.writeFileSync(path.join(out, 'decode_cases.jsonl'), decodeCases.map((c) => JSON.stringify(c)).join('\n') + '\n');

  const qwenAdded = files.qwen3.added_tokens;
  const result = [];
  for (const v of variants(qwenAdded)) {
    const merged = mergePatch(JSON.parse(JSON.stringify(files[v.base])), v.patch);
    const tokenizer = Tokenizer.fromString(JSON.stringify(merged));
    result.push({ name: v.name, base: v.base, patch: v.patch, texts: featureTexts,
      ids: await encodeAll(tokenizer, featureTexts, false), ids_special: await encodeAll(tokenizer, featureTexts, true) });
  }
  const tiny = byteFallbackFile();
  const tinyTokenizer = Tokenizer.fromString(JSON.stringify(tiny));
  const tinyTexts = ['hello world', '你好 hello', '珍珠 wor', 'héllo\tworld 你'];
  result.push({ name: 'byte_fallback', file: tiny, texts: tinyTexts,
    ids: await encodeAll(tinyTokenizer, tinyTexts, false), ids_special: await encodeAll(tinyTokenizer, tinyTexts, true),
    decoded: await Promise.all(tinyTexts.map(async (t) => tinyTokenizer.decode((await tinyTokenizer.encode(t, null, { addSpecialTokens: false })).getIds(), false))) });
  fs.writeFileSync(path.join(out, 'variants.json'), JSON.stringify(result) + '\n');
  console.log(`make_reference: ${texts.length} corpus lines, ${decodeCases.length} decode cases, ${result.length} variants`);
})().catch((e) => { console.error(e); process.exit(1); });

// RFC 7386 JSON merge patch (what nlohmann::json::merge_patch applies in the tests).
function mergePatch(target, patch) {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  if (target === null || typeof target !== 'object' || Array.isArray(target)) target = {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete target[k];
    else target[k] = mergePatch(target[k], v);
  }
  return target;
}

// The Rust Hugging Face tokenizers library (through @anush008/tokenizers 0.6.0) on the text
// tokenizer_bench writes with --write-text: tokens/s encoding the docs one after another (single-
// threaded) and with encodeBatch (rayon, all cores). Prints a table shaped like tokenizer_bench's.
//   build/bench/tokenizer_bench --write-text /tmp/mixed.jsonl
//   cd $(mktemp -d) && npm install @anush008/tokenizers@0.6.0 &&
//   NODE_PATH=$PWD/node_modules node /path/to/bench/tokenizer_bench_rust.js /tmp/mixed.jsonl
'use strict';
const fs = require('fs');
const os = require('os');
const { Tokenizer } = require('@anush008/tokenizers');

const docs = fs.readFileSync(process.argv[2], 'utf8').split('\n').filter((l) => l).map((l) => JSON.parse(l));
const dir = process.argv[3] || process.env.FORGE_TOKENIZER_DIR || '/var/cache/forge/tokenizers';
const repeat = 3;
const bytes = docs.reduce((n, d) => n + Buffer.byteLength(d), 0);
(async () => {
  console.log(`tokenizer_bench_rust: ${docs.length} docs, ${(bytes / 1e6).toFixed(2)} MB; best of ${repeat} runs; ${os.cpus().length} cores\n`);
  console.log('| tokenizer   | load s | tokens  | 1 thread tok/s | 1 thread MB/s | batch tok/s | batch MB/s |');
  console.log('|-------------|--------|---------|----------------|---------------|-------------|------------|');
  for (const name of ['deepseek_v3', 'qwen3']) {
    let t = process.hrtime.bigint();
    const tok = Tokenizer.fromFile(`${dir}/${name}/tokenizer.json`);
    const load = Number(process.hrtime.bigint() - t) / 1e9;
    let best1 = Infinity, bestn = Infinity, tokens = 0;
    for (let r = 0; r < repeat; ++r) {
      t = process.hrtime.bigint();
      tokens = 0;
      for (const d of docs) tokens += (await tok.encode(d, null, { addSpecialTokens: false })).getLength();
      best1 = Math.min(best1, Number(process.hrtime.bigint() - t) / 1e9);
      t = process.hrtime.bigint();
      await tok.encodeBatch(docs, { addSpecialTokens: false });
      bestn = Math.min(bestn, Number(process.hrtime.bigint() - t) / 1e9);
    }
    const row = [name.padEnd(11), load.toFixed(2).padStart(6), String(tokens).padStart(7),
      (tokens / best1).toFixed(0).padStart(14), (bytes / best1 / 1e6).toFixed(2).padStart(13),
      (tokens / bestn).toFixed(0).padStart(11), (bytes / bestn / 1e6).toFixed(2).padStart(10)];
    console.log(`| ${row.join(' | ')} |`);
  }
})();

// The PouchDB peer of the relay backlog (tests/bench/relay.sh): loads the
// same reports as tonghop's relay holds (DOCS.jsonl, one per line) into a
// local LevelDB PouchDB (not timed, as bench_relay's fill is not), then
// replicates them to the parent at URL (through the byte counter) and
// prints {"docs", "seconds", "docs_on_parent"} as JSON.
//   node pouch_relay.js DATA_DIR DOCS.jsonl URL
'use strict';
const fs = require('fs');
const path = require('path');
const PouchDB = require('pouchdb-node');
const [dir, docsFile, url] = process.argv.slice(2);
(async () => {
  const local = new PouchDB(path.join(dir, 'relay'));
  const docs = fs.readFileSync(docsFile, 'utf8').split('\n').filter(Boolean).map(JSON.parse);
  for (let i = 0; i < docs.length; i += 1000)
    await local.bulkDocs(docs.slice(i, i + 1000));
  const remote = new PouchDB(url);
  const t0 = process.hrtime.bigint();
  const res = await local.replicate.to(remote, { batch_size: 100 });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const info = await remote.info();
  console.log(JSON.stringify({ docs: docs.length, seconds: secs, written: res.docs_written,
                               docs_on_parent: info.doc_count }));
})().catch((e) => { console.error(e); process.exit(1); });

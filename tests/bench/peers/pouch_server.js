// The parent for the PouchDB peer: express-pouchdb (CouchDB's replication
// protocol over HTTP) on a LevelDB PouchDB, on 127.0.0.1, a port the kernel
// picks. Writes {"port": N} to the file given, then serves until SIGTERM.
//   node pouch_server.js DATA_DIR PORT_FILE
'use strict';
const fs = require('fs');
const path = require('path');
const express = require('express');
const PouchDB = require('pouchdb-node');
const [dir, portFile] = process.argv.slice(2);
const Pouch = PouchDB.defaults({ prefix: path.join(dir, '/') });
const app = express();
app.use('/', require('express-pouchdb')(Pouch, { mode: 'minimumForPouchDB',
                                                 logPath: path.join(dir, 'log.txt') }));
const server = app.listen(0, '127.0.0.1', () => {
  fs.writeFileSync(portFile + '.tmp', JSON.stringify({ port: server.address().port }));
  fs.renameSync(portFile + '.tmp', portFile);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));

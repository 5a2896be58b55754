// Node ssh2 as a client of sshand: a direct-tcpip channel (what
// client.forwardOut opens, as ssh -L does) to host:port, `size` random
// bytes sent through it and read back from an echo service; prints the
// two SHA-256 digests and the byte count as JSON.
// Usage: node direct_tcpip.js PORT USER KEYFILE HOST DPORT SIZE
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const { Client } = require('ssh2');

const [port, user, keyfile, host, dport, size] = process.argv.slice(2);
const total = Number(size);
const c = new Client();
c.on('ready', () => {
  c.forwardOut('127.0.0.1', 40000, host, Number(dport), (err, stream) => {
    if (err) {
      console.log(JSON.stringify({ error: err.message }));
      c.end();
      return;
    }
    const sent = crypto.createHash('sha256');
    const got = crypto.createHash('sha256');
    let n = 0;
    stream.on('data', (d) => { got.update(d); n += d.length; });
    stream.on('close', () => {
      console.log(JSON.stringify({ n, sent: sent.digest('hex'), got: got.digest('hex') }));
      c.end();
    });
    const chunk = crypto.randomBytes(1 << 16);
    let left = total;
    const pump = () => {
      while (left > 0) {
        const piece = chunk.subarray(0, Math.min(left, chunk.length));
        sent.update(piece);
        left -= piece.length;
        if (!stream.write(piece)) {
          stream.once('drain', pump);
          return;
        }
      }
      stream.end();
    };
    pump();
  });
}).on('error', (e) => {
  console.log(JSON.stringify({ error: e.message }));
  process.exitCode = 1;
}).connect({
  host: '127.0.0.1', port: Number(port), username: user,
  privateKey: fs.readFileSync(keyfile), readyTimeout: 20000,
});

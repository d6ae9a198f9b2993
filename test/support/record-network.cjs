// Preloaded with NODE_OPTIONS=--require: records every outbound connection or DNS lookup that a
// process (and its node children) attempts to anything but loopback, to the file in RECORD_NETWORK_FILE, and blocks it.
const fs = require('node:fs');
const net = require('node:net');
const dns = require('node:dns');
const file = process.env.RECORD_NETWORK_FILE;
const loopback = (host) => !host || host === 'localhost' || host === '::1' || /^127\./.test(host) || host.startsWith('/');
const record = (what) => fs.appendFileSync(file, `${process.pid} ${what}\n`);
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  // net.connect() passes its normalized [options, callback] array as the first argument.
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  const opts = typeof first === 'object' && first !== null ? first : { port: first, host: args[1] };
  const host = opts.path ?? opts.host;
  if (!loopback(host)) {
    record(`connect ${host}:${opts.port}`);
    process.nextTick(() => this.destroy(new Error(`blocked outbound connection to ${host}`)));
    return this;
  }
  return connect.apply(this, args);
};
const lookup = dns.lookup;
dns.lookup = function (host, ...rest) {
  if (!loopback(host)) record(`lookup ${host}`);
  return lookup.call(this, host, ...rest);
};

// Preload (`node --import …/offline.mjs`, or through NODE_OPTIONS for a whole process tree) that takes the network
// away from a Node process: a TCP connection to anything but loopback, and a DNS lookup of any name but localhost,
// fail with ENETUNREACH / ENOTFOUND. Each refused attempt is appended to the file REGMAN_OFFLINE_LOG names, so a test
// can assert that nothing even tried. Local sockets (paths) and listening are untouched.
import dns from 'node:dns';
import { appendFileSync } from 'node:fs';
import net from 'node:net';

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|::1|\[::1\]|::ffff:127(\.\d{1,3}){3})$/i;

function refuse(what) {
  const log = process.env.REGMAN_OFFLINE_LOG;
  if (log) appendFileSync(log, `${process.pid} ${what}\n`);
}

/** The host a `socket.connect(...)` call aims at, or undefined for a local socket path. */
function targetOf(args) {
  const [first, second] = args;
  const options = Array.isArray(first) ? first[0] : first;
  if (options !== null && typeof options === 'object') return options.path !== undefined ? undefined : String(options.host ?? 'localhost');
  if (typeof options === 'string' && !/^\d+$/.test(options)) return undefined; // a path
  return typeof second === 'string' ? second : 'localhost';
}

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function offlineConnect(...args) {
  const host = targetOf(args);
  if (host === undefined || LOOPBACK.test(host)) return connect.apply(this, args);
  refuse(`connect ${host}`);
  const err = Object.assign(new Error(`offline (test/helpers/offline.mjs): connection to ${host} refused`), { code: 'ENETUNREACH' });
  process.nextTick(() => this.destroy(err));
  return this;
};

const lookup = dns.lookup;
dns.lookup = function offlineLookup(hostname, ...rest) {
  if (LOOPBACK.test(String(hostname))) return lookup.call(this, hostname, ...rest);
  refuse(`lookup ${hostname}`);
  const callback = rest.at(-1);
  const err = Object.assign(new Error(`offline (test/helpers/offline.mjs): getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname });
  if (typeof callback === 'function') process.nextTick(() => callback(err));
  return {};
};
const lookupPromise = dns.promises.lookup;
dns.promises.lookup = async function offlineLookupPromise(hostname, ...rest) {
  if (LOOPBACK.test(String(hostname))) return lookupPromise.call(this, hostname, ...rest);
  refuse(`lookup ${hostname}`);
  throw Object.assign(new Error(`offline (test/helpers/offline.mjs): getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname });
};

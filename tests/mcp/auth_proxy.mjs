// auth_proxy.mjs — a loopback HTTP proxy for the MCP conformance suite, which has no way to
// send a bearer token: it forwards every request to the bridge unchanged (method, path, every
// header including Host and Origin, body, streamed both ways) and adds only
// "Authorization: Bearer $MCP_TOKEN". So the suite tests the bridge's own /mcp, auth included.
//   node auth_proxy.mjs BRIDGE_URL      prints "listening PORT" once it listens on 127.0.0.1
import http from 'node:http';

const target = new URL(process.argv[2]);
const token = process.env.MCP_TOKEN;
if (!token) { console.error('auth_proxy: set MCP_TOKEN'); process.exit(2); }

const server = http.createServer((req, res) => {
  const headers = { ...req.headers, authorization: `Bearer ${token}` };
  const up = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers,
    setHost: false }, (ur) => {
    res.writeHead(ur.statusCode, ur.headers);
    ur.pipe(res);
  });
  up.on('error', (e) => { res.writeHead(502); res.end(`auth_proxy: ${e.message}`); });
  req.pipe(up);
});
server.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));

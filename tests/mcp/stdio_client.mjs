// stdio_client.mjs — the official MCP TypeScript SDK's client against `lighthouse mcp` on stdio
// (StdioClientTransport), with a real bridge behind it. Run by tests/integration/mcp.sh:
//   node stdio_client.mjs LIGHTHOUSE_BIN BRIDGE_URL   (tokens in the environment: MCP_BUILDER,
//   MCP_BUILDER2, MCP_BUILDER3, MCP_EXPERT, MCP_EXPERT2, MCP_ADMIN)
// Prints one line per check: "ok - what", "not ok - what" or "ok - what # SKIP why".
// The escalation and elicitation tools need their routes in the bridge (branches esc and
// elicit); while a route answers "no route", those checks skip and say so.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const [lighthouse, bridgeUrl] = process.argv.slice(2);
const env = process.env;
let failed = 0;
const ok = (what) => console.log(`ok - ${what}`);
const notOk = (what, why) => { failed++; console.log(`not ok - ${what}`); if (why) console.log(`#   ${String(why).slice(0, 600)}`); };
const skip = (what, why) => console.log(`ok - ${what} # SKIP ${why}`);
const check = (what, cond, why) => (cond ? ok(what) : notOk(what, why));

const TOOLS = ['validate', 'escalations_list', 'escalation_get', 'escalation_decide', 'elicitation_create',
  'elicitations_list', 'elicitation_get', 'elicitation_respond', 'events_query'];

async function connect(token, name) {
  const transport = new StdioClientTransport({
    command: lighthouse,
    args: ['mcp'],
    env: { ...env, LIGHTHOUSE_URL: bridgeUrl, LIGHTHOUSE_TOKEN: token },
    stderr: 'ignore',
  });
  const client = new Client({ name, version: '1.0.0' });
  await client.connect(transport);
  return client;
}

const text = (r) => (r.content || []).map((c) => c.text || '').join('\n');
// A tool whose API route is not in this bridge yet: the bridge's 404 "no route".
const noRoute = (r) => r.isError && /HTTP 404 not_found: no route/.test(text(r));

async function main() {
  const builder = await connect(env.MCP_BUILDER, 'builder-1');
  ok('the SDK client connected to lighthouse mcp over stdio (initialize, notifications/initialized)');
  check('serverInfo names lighthouse', builder.getServerVersion()?.name === 'lighthouse', JSON.stringify(builder.getServerVersion()));
  const caps = builder.getServerCapabilities();
  check('the server declares the tools capability and nothing else', caps && caps.tools && !caps.prompts && !caps.resources,
        JSON.stringify(caps));
  await builder.ping();
  ok('ping answers');

  const { tools } = await builder.listTools();
  const names = tools.map((t) => t.name).sort();
  check('tools/list names the nine tools of the contract', JSON.stringify(names) === JSON.stringify([...TOOLS].sort()),
        names.join(','));
  check('every tool has a description and an object inputSchema',
        tools.every((t) => t.description && t.inputSchema && t.inputSchema.type === 'object'));

  // validate: a deny, an allow, another tool, and the refusals of bad arguments.
  let r = await builder.callTool({ name: 'validate', arguments: { command: 'rm -rf /', cwd: '/home/dev/project' } });
  check('validate: rm -rf / is denied by rm.root, in structuredContent with the audit seq',
        !r.isError && r.structuredContent?.decision === 'deny' && r.structuredContent?.rule === 'rm.root' &&
        Number.isInteger(r.structuredContent?.seq), JSON.stringify(r).slice(0, 400));
  check('validate: the text content is the same decision as JSON',
        JSON.parse(text(r)).rule === 'rm.root');
  r = await builder.callTool({ name: 'validate', arguments: { command: 'ls -la', cwd: '/home/dev/project' } });
  check('validate: ls -la is allowed', !r.isError && r.structuredContent?.decision === 'allow', JSON.stringify(r).slice(0, 300));
  r = await builder.callTool({ name: 'validate', arguments: { command: 'git status' } });
  check('validate without cwd: lighthouse mcp uses its own working directory', !r.isError &&
        r.structuredContent?.decision === 'allow', JSON.stringify(r).slice(0, 300));
  r = await builder.callTool({ name: 'validate', arguments: { tool: 'Write', input: { file_path: '/etc/passwd', content: 'x' },
    cwd: '/home/dev/project' } });
  check('validate: a Write to /etc/passwd is not allowed', !r.isError && r.structuredContent?.decision !== 'allow',
        JSON.stringify(r).slice(0, 300));
  r = await builder.callTool({ name: 'validate', arguments: { command: 'ls', tool: 'Bash', input: {}, cwd: '/p' } });
  check('validate with both command and tool is a tool error that says what to fix',
        r.isError === true && /either command .* or tool/.test(text(r)), text(r));
  r = await builder.callTool({ name: 'validate', arguments: { command: 'ls', cwd: '/p', wait: 301 } });
  check('validate with wait 301 is refused by the schema (0 to 300)', r.isError === true && /wait must be 0 to 300/.test(text(r)), text(r));
  r = await builder.callTool({ name: 'validate', arguments: { command: 'ls', cwd: '/p', color: 'red' } });
  check('an unknown argument is a tool error naming it', r.isError === true && /unknown argument color/.test(text(r)), text(r));
  try {
    await builder.callTool({ name: 'no_such_tool', arguments: {} });
    notOk('an unknown tool is a JSON-RPC error -32602');
  } catch (e) {
    check('an unknown tool is a JSON-RPC error -32602', e.code === -32602, `${e.code} ${e.message}`);
  }

  // events_query: an expert reads the audit log; a builder may not (403 becomes isError).
  r = await builder.callTool({ name: 'events_query', arguments: { limit: 5 } });
  check('events_query as a builder: the bridge\'s 403 is a tool result with isError',
        r.isError === true && /HTTP 403 forbidden/.test(text(r)), text(r));
  const expert = await connect(env.MCP_EXPERT, 'expert-1');
  r = await expert.callTool({ name: 'events_query', arguments: { type: 'decision.made', agent: 'builder-1', limit: 1000 } });
  const evs = r.structuredContent?.events || [];
  check('events_query as an expert: the decisions builder-1 made through MCP are in the audit log',
        !r.isError && evs.length >= 4 && evs.every((e) => e.type === 'decision.made' && e.agent === 'builder-1'),
        JSON.stringify(r).slice(0, 400));
  r = await expert.callTool({ name: 'events_query', arguments: { after: evs.length ? evs[0].seq : 0, limit: 1, type: 'decision.made' } });
  check('events_query pages by after and limit', !r.isError && r.structuredContent?.events?.length === 1 &&
        r.structuredContent.events[0].seq > evs[0].seq, JSON.stringify(r).slice(0, 300));

  await escalations(builder, expert);
  await elicitations(builder);

  await builder.close();
  await expert.close();
}

async function escalations(builder, expert) {
  // An escalation through MCP: the builder's call escalates (policy rule mcp-test.psql), the
  // expert lists, reads and denies it, the builder sees the verdict.
  let r = await expert.callTool({ name: 'escalations_list', arguments: { state: 'pending' } });
  if (noRoute(r)) {
    for (const t of ['escalations_list', 'escalation_get', 'escalation_decide'])
      skip(`${t} against the bridge`, 'the bridge has no /v1/escalations route yet (branch esc not merged)');
    return;
  }
  const reg = await fetch(`${bridgeUrl}/v1/experts/register`, { method: 'POST',
    headers: { Authorization: `Bearer ${env.MCP_EXPERT}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ capabilities: ['database'] }) });
  check('the expert registered with capability database (POST /v1/experts/register)', reg.status === 200, await reg.text());
  r = await builder.callTool({ name: 'validate', arguments: { command: 'psql -c "select 1"', cwd: '/home/dev/project', wait: 0 } });
  const id = r.structuredContent?.escalation_id;
  check('validate: psql escalates at once (wait 0) with an escalation id', !r.isError &&
        r.structuredContent?.decision === 'escalate' && /^esc-/.test(id || ''), JSON.stringify(r).slice(0, 400));
  r = await expert.callTool({ name: 'escalations_list', arguments: { state: 'pending', wait: 5 } });
  check('escalations_list: the expert sees it pending', !r.isError &&
        (r.structuredContent?.escalations || []).some((e) => e.id === id), JSON.stringify(r).slice(0, 400));
  await claims(expert, id);
  r = await expert.callTool({ name: 'escalation_get', arguments: { id } });
  check('escalation_get: pending, with the request\'s context', !r.isError && r.structuredContent?.state === 'pending' &&
        r.structuredContent?.context, JSON.stringify(r).slice(0, 400));
  r = await builder.callTool({ name: 'escalation_decide', arguments: { id, decision: 'allow', reason: 'mine' } });
  check('escalation_decide as the builder: 403 as isError', r.isError === true && /HTTP 403/.test(text(r)), text(r));
  r = await expert.callTool({ name: 'escalation_decide', arguments: { id, decision: 'deny', reason: 'no production queries from agents' } });
  check('escalation_decide: the expert denies it', !r.isError && r.structuredContent?.state === 'decided' &&
        r.structuredContent?.decision === 'deny', JSON.stringify(r).slice(0, 400));
  r = await expert.callTool({ name: 'escalation_decide', arguments: { id, decision: 'deny', reason: 'again' } });
  check('escalation_decide again: 409 as isError', r.isError === true && /HTTP 409/.test(text(r)), text(r));
  r = await builder.callTool({ name: 'escalation_get', arguments: { id } });
  check('escalation_get as the builder whose request it is: decided deny', !r.isError &&
        r.structuredContent?.decision === 'deny', JSON.stringify(r).slice(0, 400));
  r = await expert.callTool({ name: 'escalation_get', arguments: { id: '../v1/status' } });
  check('escalation_get with an id that is a path: refused before any request', r.isError === true && /id must be/.test(text(r)), text(r));
}

// escalations_list with claim (a pool of experts): expert-1 claims the pending escalation id
// (quorum 1), so expert-2's claiming call is not given it while its plain call still lists it;
// a claim out of range is a tool error, made before any request.
async function claims(expert, id) {
  const has = (r) => (r.structuredContent?.escalations || []).some((e) => e.id === id);
  let r = await expert.callTool({ name: 'escalations_list', arguments: { claim: 600 } });
  check('escalations_list with claim: the expert is given the escalation and claims it', !r.isError && has(r),
        JSON.stringify(r).slice(0, 400));
  const reg = await fetch(`${bridgeUrl}/v1/experts/register`, { method: 'POST',
    headers: { Authorization: `Bearer ${env.MCP_EXPERT2}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ capabilities: ['database'] }) });
  check('a second expert registered with capability database', reg.status === 200, await reg.text());
  const expert2 = await connect(env.MCP_EXPERT2, 'expert-2');
  r = await expert2.callTool({ name: 'escalations_list', arguments: { claim: 600, wait: 0 } });
  check('escalations_list with claim as a second expert: not given the escalation the first claimed',
        !r.isError && Array.isArray(r.structuredContent?.escalations) && !has(r), JSON.stringify(r).slice(0, 400));
  r = await expert2.callTool({ name: 'escalations_list', arguments: {} });
  check('escalations_list without claim as the second expert: it is listed, pending', !r.isError && has(r),
        JSON.stringify(r).slice(0, 400));
  for (const claim of [0, 3601]) {
    r = await expert2.callTool({ name: 'escalations_list', arguments: { claim } });
    check(`escalations_list with claim ${claim}: a tool error that names the range`,
          r.isError === true && /argument claim must be 1 to 3600/.test(text(r)), text(r));
  }
  r = await expert2.callTool({ name: 'escalations_list', arguments: { state: 'decided', claim: 60 } });
  check('escalations_list with claim and state decided: a tool error', r.isError === true &&
        /claim goes with state pending/.test(text(r)), text(r));
  await expert2.close();
}

async function elicitations(builder) {
  // builder-1 asks builder-2; builder-3 may not answer; builder-2 answers; builder-1 reads it.
  const schema = { type: 'object', properties: { port: { type: 'integer' } }, required: ['port'] };
  let r = await builder.callTool({ name: 'elicitation_create', arguments: { to: 'builder-2', message: 'Which port?', schema } });
  if (noRoute(r)) {
    for (const t of ['elicitation_create', 'elicitations_list', 'elicitation_get', 'elicitation_respond'])
      skip(`${t} against the bridge`, 'the bridge has no /v1/elicitations route yet (branch elicit not merged)');
    return;
  }
  const id = r.structuredContent?.id;
  check('elicitation_create: builder-1 asks builder-2', !r.isError && /^eli-/.test(id || '') &&
        r.structuredContent?.state === 'pending', JSON.stringify(r).slice(0, 400));
  const b2 = await connect(env.MCP_BUILDER2, 'builder-2');
  const b3 = await connect(env.MCP_BUILDER3, 'builder-3');
  // A long-poll does not hold the session: builder-3 waits for a question, pings meanwhile,
  // and the question (not a clock) ends the wait.
  let settled = false;
  const lp = b3.callTool({ name: 'elicitations_list', arguments: { wait: 60 } });
  lp.then(() => { settled = true; }, () => { settled = true; });
  await b3.ping();
  check('a ping is answered while a long-poll tool call of the same session waits', !settled);
  r = await builder.callTool({ name: 'elicitation_create', arguments: { to: 'builder-3', message: 'Still there?',
    schema: { type: 'object', properties: { ok: { type: 'boolean' } } } } });
  const lr = await lp;
  check('the question to builder-3 ends its long-poll', !lr.isError &&
        (lr.structuredContent?.elicitations || []).some((e) => e.to === 'builder-3'), JSON.stringify(lr).slice(0, 300));
  r = await b2.callTool({ name: 'elicitations_list', arguments: { wait: 5 } });
  check('elicitations_list: builder-2 sees the question', !r.isError &&
        (r.structuredContent?.elicitations || []).some((e) => e.id === id), JSON.stringify(r).slice(0, 400));
  r = await b3.callTool({ name: 'elicitation_respond', arguments: { id, action: 'accept', content: { port: 1 } } });
  check('elicitation_respond by a third agent: 403 as isError', r.isError === true && /HTTP 403/.test(text(r)), text(r));
  r = await b2.callTool({ name: 'elicitation_respond', arguments: { id, action: 'accept', content: { port: 'x' } } });
  check('elicitation_respond with content that breaks the schema: 400 schema_mismatch as isError',
        r.isError === true && /HTTP 400 schema_mismatch/.test(text(r)), text(r));
  r = await b2.callTool({ name: 'elicitation_respond', arguments: { id, action: 'accept', content: { port: 5432 } } });
  check('elicitation_respond: builder-2 answers', !r.isError && r.structuredContent?.state === 'accepted',
        JSON.stringify(r).slice(0, 400));
  r = await builder.callTool({ name: 'elicitation_get', arguments: { id, wait: 5 } });
  check('elicitation_get: builder-1 reads the answer', !r.isError && r.structuredContent?.content?.port === 5432,
        JSON.stringify(r).slice(0, 400));
  await b2.close();
  await b3.close();
}

try {
  await main();
} catch (e) {
  notOk('the MCP session ran to its end', e.stack || e);
}
process.exit(failed ? 1 : 0);

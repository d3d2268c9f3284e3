// A bad-input corpus against a live gateway over raw TCP (so that nothing is
// normalised on the way: paths, bytes, headers and framing go out exactly as
// written). Each input must get a clear 4xx, nothing may be written (the
// stores, the event tables and their rows are compared before and after), and
// the gateway must still be up. The table of input -> status is printed as
// diagnostics. push.test.mjs and pull.test.mjs already pin a few basic cases
// (not JSON, float/huge seqNum, 5000-deep envelope, wrong token); this corpus
// is wider and checks "nothing written" across all of it.
import assert from 'node:assert/strict'
import net from 'node:net'
import { after, before, test } from 'node:test'

import { psql, startCluster, startGateway } from '../lib/harness.mjs'
import { PULL_TAG, PUSH_TAG, pushBatch, events } from './lib.mjs'

const TOKEN = 'tok'
const MAX_BODY = 1 << 20  // --max-body-bytes; the other limits keep their defaults
let pg, gw
before(async () => {
  pg = await startCluster()
  gw = await startGateway({ databaseUrl: pg.url, authToken: TOKEN, longPollTimeout: 2, args: ['--max-body-bytes', String(MAX_BODY), '--quiet'] })
})
after(async () => {
  await gw?.stop()
  await pg?.stop()
})

/** Bytes from parts: strings (UTF-8) and arrays of byte values. */
const bytes = (...parts) => Buffer.concat(parts.map((p) => (Array.isArray(p) ? Buffer.from(p) : Buffer.from(p, 'utf8'))))

/**
 * One request on its own connection, written as given. `head` is the request
 * line + headers (without the blank line) or omitted for method/target/headers;
 * body a Buffer/string; chunks: a list of pieces written one after another.
 * Resolves { status (0: closed without an answer), text, closed }.
 */
function raw(port, { method = 'GET', target = '/api/electric', headers = {}, body, contentLength = true, head, chunks, timeout = 10_000 }) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1')
    let buf = Buffer.alloc(0)
    let settled = false
    const done = (how) => {
      if (settled) return
      settled = true
      s.destroy()
      const text = buf.toString('latin1')
      resolve({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0), text, how })
    }
    s.setTimeout(timeout, () => done('timeout'))
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d])
      // A complete answer (Content-Length known) is enough: some inputs leave the connection open.
      const t = buf.toString('latin1')
      const end = t.indexOf('\r\n\r\n')
      const cl = /\r\ncontent-length: *(\d+)/i.exec(t.slice(0, end))
      if (end >= 0 && cl && buf.length >= end + 4 + Number(cl[1])) done('answered')
    })
    s.on('end', () => done('end'))
    s.on('error', () => done('error'))
    s.on('connect', () => {
      if (chunks) {
        for (const c of chunks) s.write(c)
        return
      }
      const b = body === undefined ? null : Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8')
      let h = head
      if (h === undefined) {
        const all = { Host: '127.0.0.1', Connection: 'close', ...headers }
        if (b && contentLength && !Object.keys(all).some((k) => /^(content-length|transfer-encoding)$/i.test(k))) all['Content-Length'] = String(b.length)
        h = `${method} ${target} HTTP/1.1\r\n${Object.entries(all).map(([k, v]) => `${k}: ${v}\r\n`).join('')}`
      }
      s.write(Buffer.concat([Buffer.from(h + '\r\n', 'latin1'), b ?? Buffer.alloc(0)]))
    })
  })
}

// --- the corpus ------------------------------------------------------------
const STORE = 'bi_base'  // exists with 2 events; a valid next push would be seqNum 3
const ev = (over = {}) => ({ name: 'v1.ItemAdded', args: { id: 'x', text: 'y' }, seqNum: 3, parentSeqNum: 2, clientId: 'c', sessionId: 's', ...over })
const good = (over = {}) => ({ _tag: PUSH_TAG, storeId: STORE, batch: [ev()], ...over })
const goodText = JSON.stringify(good())
const evText = (fields) => `{"_tag":"${PUSH_TAG}","storeId":"${STORE}","batch":[{${fields}}]}`
const EVF = '"name":"v1.ItemAdded","args":{"id":"x"},"clientId":"c","sessionId":"s"'
const push = (body, headers = {}) => ({ method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body) })
const pullArgs = (obj) => ({ _tag: PULL_TAG, storeId: 'bi_pull', payload: { authToken: TOKEN }, handle: { _tag: 'None' }, live: true, ...obj })
const pullQ = (q) => ({ target: `/api/electric?${q}` })
const pullJ = (obj) => pullQ(`args=${encodeURIComponent(JSON.stringify(pullArgs(obj)))}`)
const enc = encodeURIComponent
const pre = enc(`{"_tag":"${PULL_TAG}","storeId":"bi`)  // splice raw bytes into the store id
const post = enc(`","payload":{"authToken":"${TOKEN}"},"handle":{"_tag":"None"},"live":true}`)
const SQLISH = [`x'; DROP TABLE livestore.stores; --`, `a"b`, `a;b`, `1 OR 1=1`, `$$`, `../x`, `%s%n`, `ä`, '', 'a'.repeat(257), 'a\u0000b', ' a', 'a\nb']
const deep = (n, open, close, inner = '') => open.repeat(n) + inner + close.repeat(n)

const CORPUS = [
  // [group, input, request, expected status(es)]
  ['malformed JSON', 'truncated', push(goodText.slice(0, 60)), 400],
  ['malformed JSON', 'trailing garbage', push(goodText + 'x'), 400],
  ['malformed JSON', 'two documents', push(goodText + goodText), 400],
  ['malformed JSON', 'comment', push('/* c */' + goodText), 400],
  ['malformed JSON', 'single quotes', push(goodText.replace(/"/g, "'")), 400],
  ['malformed JSON', 'NaN seqNum', push(evText(`${EVF},"seqNum":NaN,"parentSeqNum":2`)), 400],
  ['malformed JSON', 'Infinity seqNum', push(evText(`${EVF},"seqNum":Infinity,"parentSeqNum":2`)), 400],
  // RFC 8259 §8.1 lets a parser ignore a BOM, and RapidJSON does: the rest is
  // a well-formed batch behind the head, so it must be refused as such.
  ['malformed JSON', 'UTF-8 BOM first (ignored), batch behind the head', push(bytes([0xef, 0xbb, 0xbf], JSON.stringify(good({ batch: [ev({ seqNum: 2, parentSeqNum: 1 })] })))), 409],
  ['malformed JSON', 'empty body', push(''), 400],
  ['malformed JSON', 'null', push('null'), 400],
  ['malformed JSON', 'string', push('"x"'), 400],
  ['malformed JSON', 'number', push('42'), 400],
  ['malformed JSON', 'array', push('[]'), 400],
  ['malformed JSON', 'raw newline in a string', push(goodText.replace('"v1.ItemAdded"', '"v1.Item\nAdded"')), 400],
  ['malformed JSON', 'bad escape \\x41', push(goodText.replace('"v1.ItemAdded"', '"v1.\\x41"')), 400],
  ['malformed JSON', 'unterminated string', push(`{"_tag":"${PUSH_TAG}`), 400],
  ['wrong _tag', 'the pull tag', push(good({ _tag: PULL_TAG })), 400],
  ['wrong _tag', 'missing', push({ storeId: STORE, batch: [ev()] }), 400],
  ['wrong _tag', 'number', push(good({ _tag: 1 })), 400],
  ['wrong _tag', 'null', push(good({ _tag: null })), 400],
  ['wrong _tag', 'trailing space', push(good({ _tag: PUSH_TAG + ' ' })), 400],
  ['wrong _tag', 'other case', push(good({ _tag: PUSH_TAG.toLowerCase() })), 400],
  ['wrong _tag', 'with NUL', push(good({ _tag: PUSH_TAG + '\u0000' })), 400],
  ['wrong types', 'storeId number', push(good({ storeId: 7 })), 400],
  ['wrong types', 'storeId null', push(good({ storeId: null })), 400],
  ['wrong types', 'storeId array', push(good({ storeId: [STORE] })), 400],
  ['wrong types', 'batch string', push(good({ batch: 'x' })), 400],
  ['wrong types', 'batch null', push(good({ batch: null })), 400],
  ['wrong types', 'batch object', push(good({ batch: { 0: ev() } })), 400],
  ['wrong types', 'batch missing', push({ _tag: PUSH_TAG, storeId: STORE }), 400],
  ['wrong types', 'event is an array', push(good({ batch: [[ev()]] })), 400],
  ['wrong types', 'event is null', push(good({ batch: [null] })), 400],
  ['wrong types', 'name number', push(good({ batch: [ev({ name: 1 })] })), 400],
  ['wrong types', 'name empty', push(good({ batch: [ev({ name: '' })] })), 400],
  ['wrong types', 'clientId number', push(good({ batch: [ev({ clientId: 5 })] })), 400],
  ['wrong types', 'sessionId null', push(good({ batch: [ev({ sessionId: null })] })), 400],
  ['wrong types', 'seqNum "3" (string)', push(good({ batch: [ev({ seqNum: '3' })] })), 400],
  ['wrong types', 'seqNum null', push(good({ batch: [ev({ seqNum: null })] })), 400],
  ['wrong types', 'seqNum true', push(good({ batch: [ev({ seqNum: true })] })), 400],
  ['wrong types', 'parentSeqNum missing', push(good({ batch: [ev({ parentSeqNum: undefined })] })), 400],
  ['wrong types', 'parentSeqNum "2"', push(good({ batch: [ev({ parentSeqNum: '2' })] })), 400],
  ['numbers', 'seqNum 3.0', push(evText(`${EVF},"seqNum":3.0,"parentSeqNum":2`)), 400],
  ['numbers', 'seqNum 3.5', push(evText(`${EVF},"seqNum":3.5,"parentSeqNum":2`)), 400],
  ['numbers', 'seqNum 3e0', push(evText(`${EVF},"seqNum":3e0,"parentSeqNum":2`)), 400],
  ['numbers', 'seqNum 0.3e1', push(evText(`${EVF},"seqNum":0.3e1,"parentSeqNum":2`)), 400],
  ['numbers', 'seqNum -0', push(evText(`${EVF},"seqNum":-0,"parentSeqNum":-1`)), 400],
  ['numbers', 'seqNum 0, parent -1', push(evText(`${EVF},"seqNum":0,"parentSeqNum":-1`)), 400],
  ['numbers', 'seqNum -1', push(evText(`${EVF},"seqNum":-1,"parentSeqNum":-2`)), 400],
  ['numbers', 'seqNum 2^31 (int32 + 1)', push(evText(`${EVF},"seqNum":2147483648,"parentSeqNum":2147483647`)), 400],
  ['numbers', 'seqNum -2^31 - 1', push(evText(`${EVF},"seqNum":-2147483649,"parentSeqNum":2`)), 400],
  ['numbers', 'seqNum 2^53 + 1', push(evText(`${EVF},"seqNum":9007199254740993,"parentSeqNum":9007199254740992`)), 400],
  ['numbers', 'seqNum 1e400', push(evText(`${EVF},"seqNum":1e400,"parentSeqNum":2`)), 400],
  ['numbers', 'seqNum 400-digit integer', push(evText(`${EVF},"seqNum":${'9'.repeat(400)},"parentSeqNum":2`)), 400],
  ['numbers', 'parentSeqNum 2.0', push(evText(`${EVF},"seqNum":3,"parentSeqNum":2.0`)), 400],
  ['numbers', 'seqNum 0x3', push(evText(`${EVF},"seqNum":0x3,"parentSeqNum":2`)), 400],
  ['numbers', 'seqNum 03 (leading zero)', push(evText(`${EVF},"seqNum":03,"parentSeqNum":2`)), 400],
  ['numbers', 'seqNum +3', push(evText(`${EVF},"seqNum":+3,"parentSeqNum":2`)), 400],
  ['deep nesting', 'envelope 100000 objects deep', push(deep(100000, '{"a":', '}', '1')), 400],
  ['deep nesting', 'envelope 100000 arrays deep', push(deep(100000, '[', ']')), 400],
  ['deep nesting', 'batch 10000 arrays deep', push(`{"_tag":"${PUSH_TAG}","storeId":"${STORE}","batch":${deep(10000, '[', ']')}}`), 400],
  ['deep nesting', 'unclosed 100000 arrays', push('['.repeat(100000)), 400],
  ['invalid UTF-8', 'byte 0xFF in name', push(bytes(goodText.split('v1.ItemAdded')[0], 'v1.', [0xff], goodText.split('v1.ItemAdded')[1])), 400],
  ['invalid UTF-8', 'overlong "/" (C0 AF) in storeId', push(bytes(`{"_tag":"${PUSH_TAG}","storeId":"bi`, [0xc0, 0xaf], `","batch":${JSON.stringify([ev()])}}`)), 400],
  ['invalid UTF-8', 'UTF-8 surrogate (ED A0 80) in args', push(bytes(`{"_tag":"${PUSH_TAG}","storeId":"${STORE}","batch":[{"name":"n","args":{"t":"`, [0xed, 0xa0, 0x80], `"},"seqNum":3,"parentSeqNum":2,"clientId":"c","sessionId":"s"}]}`)), 400],
  ['invalid UTF-8', 'truncated sequence (E2 82) in args', push(bytes(`{"_tag":"${PUSH_TAG}","storeId":"${STORE}","batch":[{"name":"n","args":{"t":"`, [0xe2, 0x82], `"},"seqNum":3,"parentSeqNum":2,"clientId":"c","sessionId":"s"}]}`)), 400],
  ['invalid UTF-8', 'byte 0x80 in a key', push(bytes(`{"_tag":"${PUSH_TAG}","storeId":"${STORE}","batch":[{"name":"n","args":{"`, [0x80], `":1},"seqNum":3,"parentSeqNum":2,"clientId":"c","sessionId":"s"}]}`)), 400],
  ['invalid UTF-8', 'lone surrogate escape \\ud800 in args', push(evText(`"name":"n","args":{"t":"\\ud800"},"seqNum":3,"parentSeqNum":2,"clientId":"c","sessionId":"s"`)), 400],
  ['invalid UTF-8', '\\u0000 in args (jsonb refuses it)', push(evText(`"name":"n","args":{"t":"a\\u0000b"},"seqNum":3,"parentSeqNum":2,"clientId":"c","sessionId":"s"`)), 400],
  ['invalid UTF-8', '\\u0000 in name', push(evText(`"name":"n\\u0000","args":{},"seqNum":3,"parentSeqNum":2,"clientId":"c","sessionId":"s"`)), 400],
  ['oversized', `body > ${MAX_BODY} B with Content-Length`, push(goodText.replace('"y"', JSON.stringify('y'.repeat(MAX_BODY)))), 413],
  ['oversized', 'Content-Length 10^11, no body sent', { method: 'POST', headers: { 'Content-Type': 'application/json', 'Content-Length': '99999999999' } }, 413],
  ['oversized', 'Content-Length beyond 2^64', { method: 'POST', headers: { 'Content-Type': 'application/json', 'Content-Length': '99999999999999999999999' } }, 413],
  ['oversized', `chunked, ${MAX_BODY + 65536} B, no Content-Length`, { chunks: [`POST /api/electric HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`, ...Array.from({ length: MAX_BODY / 65536 + 1 }, () => `10000\r\n${'x'.repeat(65536)}\r\n`), '0\r\n\r\n'] }, 413],
  ['oversized', 'event > 256 KiB (--max-event-bytes)', push(good({ batch: [ev({ args: { pad: 'p'.repeat(300_000) } })] })), 413],
  ['oversized', 'batch of 1001 events (--max-batch-events)', push(good({ batch: events(3, 1003) })), 413],
  ['oversized', 'storeId of 257 characters', push(good({ storeId: 'a'.repeat(257) })), 400],
  ['framing', 'Content-Length -1', { method: 'POST', headers: { 'Content-Type': 'application/json', 'Content-Length': '-1' }, body: '{}', contentLength: false }, 400],
  ['framing', 'Content-Length 12abc', { method: 'POST', headers: { 'Content-Type': 'application/json', 'Content-Length': '12abc' }, body: '{}', contentLength: false }, 400],
  ['framing', 'Content-Length shorter than the body', { method: 'POST', headers: { 'Content-Type': 'application/json', 'Content-Length': '20' }, body: goodText, contentLength: false }, 400],
  ['framing', 'Content-Length and chunked', { method: 'POST', headers: { 'Content-Type': 'application/json', 'Content-Length': '5', 'Transfer-Encoding': 'chunked' }, body: '0\r\n\r\n', contentLength: false }, 400],
  ['framing', 'bad chunk size', { method: 'POST', headers: { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' }, body: 'zz\r\n{}\r\n0\r\n\r\n', contentLength: false }, [400, 0]],
  ['content type', 'multipart/form-data', push(goodText, { 'Content-Type': 'multipart/form-data; boundary=x' }), 415],
  ['content type', 'application/x-www-form-urlencoded', push(goodText, { 'Content-Type': 'application/x-www-form-urlencoded' }), 415],
  ['content type', 'text/html', push(goodText, { 'Content-Type': 'text/html' }), 415],
  ...SQLISH.map((id) => ['store id (push)', JSON.stringify(id.length > 40 ? `${id.slice(0, 12)}…(${id.length})` : id), push(good({ storeId: id })), 400]),
  ...SQLISH.map((id) => ['store id (pull)', JSON.stringify(id.length > 40 ? `${id.slice(0, 12)}…(${id.length})` : id), pullJ({ storeId: id }), 400]),
  ['pull args', 'no args', pullQ(''), 400],
  ['pull args', 'args empty', pullQ('args='), 400],
  ['pull args', 'args=%', pullQ('args=%'), 400],
  ['pull args', 'args=%zz (invalid escape)', pullQ('args=%zz'), 400],
  ['pull args', 'args=%7 (cut escape)', pullQ('args=%7'), 400],
  ['pull args', 'double-encoded', pullQ(`args=${enc(enc(JSON.stringify(pullArgs({}))))}`), 400],
  ['pull args', '%00 in the store id', pullQ(`args=${pre}%00x${post}`), 400],
  ['pull args', "'+' in the store id", pullQ(`args=${pre}+x${post}`), 400],
  ['pull args', '%2B in the store id', pullQ(`args=${pre}%2Bx${post}`), 400],
  ['pull args', 'overlong %C0%AF in the store id', pullQ(`args=${pre}%C0%AFx${post}`), 400],
  ['pull args', 'invalid UTF-8 %FF in the token', pullQ(`args=${enc(`{"_tag":"${PULL_TAG}","storeId":"bi_pull","payload":{"authToken":"`)}%FF${enc(`"},"handle":{"_tag":"None"},"live":true}`)}`), 400],
  ['pull args', 'raw byte 0xFF in the query', { head: `GET /api/electric?args=${pre}\xffx${post} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n` }, 400],
  ['pull args', 'args twice (first broken)', pullQ(`args=%7B&args=${enc(JSON.stringify(pullArgs({})))}`), 400],
  ['pull args', 'JSON array', pullQ(`args=${enc('[]')}`), 400],
  ['pull args', 'the push tag', pullJ({ _tag: PUSH_TAG }), 400],
  ['pull args', 'storeId missing', pullJ({ storeId: undefined }), 400],
  ['pull args', 'storeId number', pullJ({ storeId: 5 }), 400],
  ['pull args', 'handle missing', pullJ({ handle: undefined }), 400],
  ['pull args', 'handle number', pullJ({ handle: 1 }), 400],
  ['pull args', 'handle._tag "Maybe"', pullJ({ handle: { _tag: 'Maybe' } }), 400],
  ['pull args', 'handle Some without value', pullJ({ handle: { _tag: 'Some' } }), 400],
  ['pull args', 'offset number', pullJ({ handle: { _tag: 'Some', value: { offset: 3, handle: 'h' } } }), 400],
  ['pull args', 'offset "garbage_x"', pullJ({ handle: { _tag: 'Some', value: { offset: 'garbage_x', handle: 'h' } } }), 400],
  ['pull args', 'offset "-5_0"', pullJ({ handle: { _tag: 'Some', value: { offset: '-5_0', handle: 'h' } } }), 400],
  ['pull args', 'offset "99999999999_0" (> int32)', pullJ({ handle: { _tag: 'Some', value: { offset: '99999999999_0', handle: 'h' } } }), 400],
  ['pull args', 'offset ""', pullJ({ handle: { _tag: 'Some', value: { offset: '', handle: 'h' } } }), 400],
  ['pull args', 'offset "3_0~~"', pullJ({ handle: { _tag: 'Some', value: { offset: '3_0~~', handle: 'h' } } }), 400],
  ['pull args', 'live "true" (string)', pullJ({ live: 'true' }), 400],
  ['pull args', 'deep nesting in payload (100000)', pullQ(`args=${enc(`{"_tag":"${PULL_TAG}","storeId":"bi_pull","payload":${deep(100000, '[', ']')},"handle":{"_tag":"None"},"live":true}`)}`), [400, 414]],
  ['pull auth', 'wrong token (handle None: no store may be created)', pullJ({ storeId: 'bi_noauth', payload: { authToken: 'nope' } }), 401],
  ['pull auth', 'no payload', pullJ({ storeId: 'bi_noauth', payload: undefined }), 401],
  ['pull auth', 'payload not an object', pullJ({ storeId: 'bi_noauth', payload: 'tok' }), 401],
  ['pull auth', 'authToken number', pullJ({ storeId: 'bi_noauth', payload: { authToken: 1 } }), 401],
  ['pull auth', 'token with a trailing NUL', pullJ({ storeId: 'bi_noauth', payload: { authToken: TOKEN + '\u0000' } }), 401],
  ['paths', 'GET /api/electric/../x', { target: '/api/electric/../x' }, 404],
  ['paths', 'GET /api/electric/..', { target: '/api/electric/..' }, 404],
  ['paths', 'GET /api//electric', { target: '/api//electric' }, 404],
  ['paths', 'GET //api/electric', { target: '//api/electric' }, 404],
  ['paths', 'GET /api/electric/%2e%2e/', { target: '/api/electric/%2e%2e/' }, 404],
  ['paths', 'GET /x/%2e%2e/api/electric', { target: '/x/%2e%2e/api/electric' }, 404],
  ['paths', 'GET /api/electric%2F', { target: '/api/electric%2F' }, 404],
  ['paths', 'GET /api/electric/', { target: '/api/electric/' }, 404],
  ['paths', 'GET /API/electric', { target: '/API/electric' }, 404],
  ['paths', 'GET /api/electric;x', { target: '/api/electric;x' }, 404],
  ['paths', 'GET /api/electric%20', { target: '/api/electric%20' }, 404],
  ['paths', 'GET /api/electric/v1/shape', { target: '/api/electric/v1/shape' }, 404],
  ['paths', 'POST /api/electric/..', { ...push(goodText), target: '/api/electric/..' }, 404],
  ['paths', 'POST /api//electric', { ...push(goodText), target: '/api//electric' }, 404],
  ['paths', 'GET * (asterisk form)', { target: '*' }, 404],
  ['methods', 'PUT', { ...push(goodText), method: 'PUT' }, 405],
  ['methods', 'DELETE', { method: 'DELETE' }, 405],
  ['methods', 'PATCH', { ...push(goodText), method: 'PATCH' }, 405],
  ['methods', 'TRACE', { method: 'TRACE' }, 405],
  ['methods', 'FOO (unknown)', { method: 'FOO' }, 405],
  ['headers', 'one header of 40 KiB (--max-header-bytes 32 KiB)', { headers: { 'X-Big': 'a'.repeat(40 * 1024) } }, 431],
  ['headers', '2000 headers (47 KiB)', { head: `GET /api/electric HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${Array.from({ length: 2000 }, (_, i) => `X-H${i}: ${'b'.repeat(16)}\r\n`).join('')}` }, 431],
  ['headers', 'URL of 40 KiB', pullQ(`args=${'a'.repeat(40 * 1024)}`), 414],
  ['headers', 'push with a 40 KiB cookie', push(goodText, { Cookie: `c=${'c'.repeat(40 * 1024)}` }), 431],
  ['headers', 'header line without a colon', { head: 'GET /api/electric HTTP/1.1\r\nHost: x\r\nNoColonHere\r\nConnection: close\r\n' }, 400],
  ['headers', 'header name with a space', { head: 'GET /api/electric HTTP/1.1\r\nHost: x\r\nBad Name: v\r\nConnection: close\r\n' }, 400],
  // libmicrohttpd closes the connection on a request line it cannot parse.
  ['request line', 'garbage request line', { head: 'GARBAGE' }, [400, 0]],
  // 505 HTTP Version Not Supported (libmicrohttpd's own answer, RFC 9110 §15.6.6).
  ['request line', 'HTTP/2 preface on HTTP/1', { chunks: ['PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'] }, [400, 505, 0]],
  ['request line', 'HTTP/9.9', { head: 'GET /api/electric HTTP/9.9\r\nHost: x\r\nConnection: close\r\n' }, [400, 505]],
  ['request line', 'target with a space', { head: 'GET /api/ electric HTTP/1.1\r\nHost: x\r\nConnection: close\r\n' }, [400, 404]],
]

async function snapshot() {
  const stores = await psql(pg.url, `SELECT coalesce(string_agg(store_id, ',' ORDER BY store_id), '') FROM livestore.stores`)
  const tables = await psql(pg.url, `SELECT coalesce(string_agg(relname, ',' ORDER BY relname), '') FROM pg_class WHERE relkind = 'r' AND relname LIKE 'eventlog%'`)
  const rows = await psql(pg.url, `SELECT count(*) FROM "eventlog_6_${STORE}"`)
  return { stores, tables, rows }
}

test('bad-input corpus: each input gets a clear 4xx, nothing is written, the gateway stays up', { timeout: 120_000 }, async (t) => {
  assert.equal((await pushBatch(gw.endpoint, STORE, events(1, 2))).status, 200)
  const before = await snapshot()
  const results = []
  for (const [group, input, req, expected] of CORPUS) {
    const r = await raw(gw.port, req)
    const want = [].concat(expected)
    results.push({ group, input, status: r.status, ok: want.includes(r.status), want: want.join('/'), text: r.text })
  }
  const width = Math.max(...results.map((r) => `${r.group}: ${r.input}`.length))
  t.diagnostic(`${'input'.padEnd(width)} | status (0 = connection closed without an answer)`)
  for (const r of results) t.diagnostic(`${`${r.group}: ${r.input}`.padEnd(width)} | ${r.status || 'closed'}${r.ok ? '' : `   <-- expected ${r.want}`}`)
  const byStatus = {}
  for (const r of results) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1
  t.diagnostic(`${results.length} inputs; by status ${JSON.stringify(byStatus)}`)

  const wrong = results.filter((r) => !r.ok).map((r) => `${r.group}: ${r.input} -> ${r.status}, expected ${r.want}: ${r.text.split('\r\n\r\n')[1]?.slice(0, 120)}`)
  assert.deepEqual(wrong, [])
  // JSON routes say why (the 4xx of libmicrohttpd itself -- 413 on an announced length, 414, 431 -- are HTML).
  for (const r of results.filter((x) => x.status === 400 && /content-type: application\/json/i.test(x.text)))
    assert.match(r.text.split('\r\n\r\n')[1], /"error":"/, `${r.group}: ${r.input}: error message`)
  assert.deepEqual(await snapshot(), before, 'nothing written: same stores, tables and rows')
  assert.ok(gw.proc, 'gateway process still running')
  assert.equal((await fetch(gw.endpoint, { method: 'HEAD' })).status, 200)
  assert.equal((await pushBatch(gw.endpoint, STORE, events(3, 3))).status, 200, 'a good push still works')
})

// The room --help promises for request headers at the default --max-header-bytes
// (32768, libmicrohttpd's memory per connection): headers may fill all but about
// 0.5 KiB of it, a Cookie header only half (libmicrohttpd copies it to parse it).
// So a browser's big cookie of 14 KiB is served and one of 17 KiB is 431, while
// another header of 24 KiB is served, on a push too (its body read after it).
test('at the default --max-header-bytes: a 14 KiB cookie is served, 17 KiB is 431; other headers get twice that', async () => {
  const ping = (headers) => raw(gw.port, { method: 'HEAD', headers })
  assert.equal((await ping({ Cookie: `c=${'c'.repeat(14 * 1024)}` })).status, 200)
  assert.equal((await ping({ Cookie: `c=${'c'.repeat(17 * 1024)}` })).status, 431)
  assert.equal((await ping({ 'X-Request-Context': 'x'.repeat(24 * 1024) })).status, 200)
  assert.equal((await ping({ 'X-Request-Context': 'x'.repeat(33 * 1024) })).status, 431)
  const body = good({ storeId: 'bi_big_header', batch: [ev({ seqNum: 1, parentSeqNum: 0 })] })
  const r = await raw(gw.port, push(body, { 'X-Request-Context': 'x'.repeat(24 * 1024) }))
  assert.equal(r.status, 200, `a push behind a 24 KiB header: ${r.text.slice(0, 300)}`)
})

// Inputs that once broke the gateway (found by this corpus), each against its
// own gateway since a crash would take the shared one down.
// Postgres refuses such jsonb (54001, stack depth limit exceeded): once a 500.
test('deeply nested args (15000 levels): a 4xx, not 500', async (t) => {
  const g = await startGateway({ databaseUrl: pg.url, args: ['--quiet'] })
  try {
    const body = evText(`"name":"n","args":${deep(15000, '[', ']')},"seqNum":1,"parentSeqNum":0,"clientId":"c","sessionId":"s"`).replace(STORE, 'bi_deep')
    const r = await raw(g.port, push(body))
    t.diagnostic(`args nested 15000 deep (${body.length} B): ${r.status}`)
    assert.ok(r.status >= 400 && r.status < 500, `status ${r.status}`)
  } finally {
    await g.stop()
  }
})

// Once a SIGSEGV: the push parser re-serialised each event with the recursive
// RapidJSON writer, and ~80000 levels overflowed a worker thread's stack.
test('deeply nested args (100000 levels, 200 KB): a 4xx, and the gateway survives', async (t) => {
  const g = await startGateway({ databaseUrl: pg.url, args: ['--quiet'] })
  try {
    const body = evText(`"name":"n","args":${deep(100000, '[', ']')},"seqNum":1,"parentSeqNum":0,"clientId":"c","sessionId":"s"`).replace(STORE, 'bi_deep2')
    const r = await raw(g.port, push(body))
    const exit = await Promise.race([g.exited, new Promise((res) => setTimeout(() => res(null), 500))])
    t.diagnostic(`args nested 100000 deep (${body.length} B): ${r.status || 'connection closed'}; gateway ${exit ? `exited (${exit.signal ?? exit.code})` : 'alive'}`)
    assert.equal(exit, null, 'gateway still running')
    assert.ok(r.status >= 400 && r.status < 500, `status ${r.status}`)
  } finally {
    await g.stop()
  }
})

// Once routed as the endpoint: the decoded path was cut at the NUL.
test('a NUL byte in the path (/api/electric%00junk) is not the endpoint', async (t) => {
  const head = await raw(gw.port, { method: 'HEAD', target: '/api/electric%00junk' })
  const push1 = await raw(gw.port, { ...push(JSON.stringify(good({ storeId: 'bi_nul', batch: [ev({ seqNum: 1, parentSeqNum: 0 })] }))), target: '/api/electric%00/../admin' })
  t.diagnostic(`HEAD /api/electric%00junk -> ${head.status}; POST /api/electric%00/../admin -> ${push1.status}`)
  assert.equal(head.status, 404)
  assert.equal(push1.status, 404)
})

// Forged and malformed JWTs (issue 11) against a gateway that verifies
// asymmetric keys (a JWKS file holding an RSA, an EC P-256 and an Ed25519
// key): every one is a 401 on every channel (Authorization header, the
// endpoint's ?token=, a cookie, the pull payload), and nothing is written.
test('forged and malformed JWTs: a 401 on every channel, nothing written', { timeout: 120_000 }, async (t) => {
  const { writeFileSync } = await import('node:fs')
  const pathMod = await import('node:path')
  const { makeWorkDir } = await import('../lib/harness.mjs')
  const { makeKey, now, rawJwt, signJwt } = await import('../lib/jwt.mjs')
  const rsa = makeKey('rsa', 'rsa-1'), ec = makeKey('ec-p256', 'ec-1'), ed = makeKey('ed25519', 'ed-1')
  const work = makeWorkDir('bad-jwt')
  const jwksFile = pathMod.join(work, 'jwks.json')
  writeFileSync(jwksFile, JSON.stringify({ keys: [rsa.jwk(), ec.jwk(), ed.jwk()] }))
  // No refetch during the run: an unknown kid is then a plain 401 (a JWKS that
  // may still bring it would hold pulls and answer pushes 503 instead).
  const g = await startGateway({ databaseUrl: pg.url, longPollTimeout: 2, args: ['--jwt-jwks-file', jwksFile,
    '--jwt-issuer', 'https://idp.test/', '--jwt-jwks-min-refetch', '3600', '--quiet'] })
  try {
    const TARGET = 'bi_jwt'
    const claims = { iss: 'https://idp.test/', sub: 'mallory', read: '*', write: '*', exp: now() + 600 }
    const good = signJwt(rsa, claims)
    const [h, p, s] = good.split('.')
    const attacker = makeKey('rsa', 'rsa-1')
    const b64 = (x) => Buffer.from(x).toString('base64url')
    const relabel = (token, header) => `${b64(JSON.stringify(header))}.${token.split('.').slice(1).join('.')}`
    const hs = (secret, header = { alg: 'HS256', kid: 'rsa-1' }, payload = claims) => signJwt(null, payload, { alg: 'HS256', kid: null, header, signingKey: secret })
    const FORGED = [
      ['wrong key, same kid', signJwt(attacker, claims)],
      ['RS256 signature labelled PS256', relabel(good, { alg: 'PS256', kid: 'rsa-1' })],
      ['RS256 signature labelled ES256', relabel(good, { alg: 'ES256', kid: 'rsa-1' })],
      ['ES256 signature labelled ES384', relabel(signJwt(ec, claims), { alg: 'ES384', kid: 'ec-1' })],
      ['EdDSA signature under the EC kid', signJwt(ed, claims, { kid: 'ec-1' })],
      ['alg confusion: HS256 keyed with the RSA public PEM', hs(rsa.pem)],
      ['alg confusion: HS256 keyed with the RSA JWK', hs(JSON.stringify(rsa.jwk()))],
      ['alg confusion: HS256 keyed with the EC public PEM, no kid', hs(ec.pem, { alg: 'HS256' })],
      ['alg confusion: HS256 keyed with the modulus', hs(Buffer.from(rsa.jwk().n, 'base64url'))],
      ['alg none', rawJwt({ alg: 'none', kid: 'rsa-1' }, claims)],
      ['alg NONE with a signature', rawJwt({ alg: 'NONE' }, claims, 'x')],
      ['alg empty', rawJwt({ alg: '', kid: 'rsa-1' }, claims, 'x')],
      ['alg missing', `${b64(JSON.stringify({ kid: 'rsa-1' }))}.${p}.${s}`],
      ['alg null', `${b64(JSON.stringify({ alg: null, kid: 'rsa-1' }))}.${p}.${s}`],
      ['alg array', `${b64(JSON.stringify({ alg: ['RS256'], kid: 'rsa-1' }))}.${p}.${s}`],
      ['alg twice (RS256, then HS256)', `${b64('{"alg":"RS256","alg":"HS256","kid":"rsa-1"}')}.${p}.${s}`],
      ['truncated signature', good.slice(0, -10)],
      ['signature cut to one byte', `${h}.${p}.${s.slice(0, 2)}`],
      ['no signature', `${h}.${p}.`],
      ['signature of another payload', `${h}.${b64(JSON.stringify({ ...claims, sub: 'admin' }))}.${s}`],
      ['ECDSA signature in DER form', (() => { const e = signJwt(ec, claims); const [eh, ep] = e.split('.'); return `${eh}.${ep}.${b64(Buffer.concat([Buffer.from([0x30, 0x44, 0x02, 0x20]), Buffer.alloc(32, 1), Buffer.from([0x02, 0x20]), Buffer.alloc(32, 1)]))}` })()],
      ['jku header pointing elsewhere, signed by that key', signJwt(attacker, claims, { kid: 'evil', header: { jku: 'http://127.0.0.1:9/jwks.json' } })],
      ['x5u header pointing elsewhere', signJwt(attacker, claims, { kid: 'evil', header: { x5u: 'http://127.0.0.1:9/cert.pem' } })],
      ['embedded jwk header with the signer\'s own key', signJwt(attacker, claims, { kid: null, header: { jwk: attacker.jwk() } })],
      ['crit header', signJwt(rsa, claims, { header: { crit: ['exp'], exp: 1 } })],
      ['kid path traversal, HS256 with an empty key', hs('', { alg: 'HS256', kid: '../../../../../../dev/null' })],
      ['kid SQL injection', signJwt(attacker, claims, { kid: "x' UNION SELECT 'k" })],
      ['kid of 10,000 characters (huge header)', rawJwt({ alg: 'RS256', kid: 'k'.repeat(10_000) }, claims, 'x')],
      ['token of 17 KiB', signJwt(rsa, { ...claims, pad: 'p'.repeat(17 * 1024) })],
      ['expired', signJwt(rsa, { ...claims, exp: now() - 3600 })],
      ['not yet valid', signJwt(rsa, { ...claims, nbf: now() + 3600 })],
      ['another issuer', signJwt(rsa, { ...claims, iss: 'https://evil.test/' })],
      ['no issuer', signJwt(rsa, { ...claims, iss: undefined })],
      ['exp as a string', signJwt(rsa, { ...claims, exp: String(now() + 600) })],
      ['payload not JSON', signJwt(rsa, 'not json')],
      ['payload an array', signJwt(rsa, '[1,2]')],
      ['payload with a duplicate claim', signJwt(rsa, `{"iss":"https://idp.test/","sub":"a","read":"*","write":"*","sub":"admin"}`)],
      ['header not JSON', `${b64('not json')}.${p}.${s}`],
      ['padding =', `${h}.${p}.${s}==`],
      ['standard base64 alphabet', `${h}.${p}.${s.replace(/-/g, '+').replace(/_/g, '/')}`.includes('+') ? `${h}.${p}.${s.replace(/-/g, '+').replace(/_/g, '/')}` : `${h}.${p}.+${s.slice(1)}`],
      ['four segments', `${good}.x`],
      ['two segments', `${h}.${p}`],
      ['empty', ''],
      ['dots only', '...'],
      ['a JWE-looking token (5 segments)', `${b64(JSON.stringify({ alg: 'RSA-OAEP', enc: 'A256GCM' }))}.a.b.c.d`],
    ]
    assert.equal((await pushBatch(`${g.endpoint}?token=${good}`, TARGET, events(1, 1))).status, 200, 'the genuine token works')
    const count = async () => psql(pg.url, `SELECT count(*) FROM "eventlog_6_${TARGET}"`)
    const before = await count()
    const results = []
    for (const [what, token] of FORGED) {
      const body = JSON.stringify({ _tag: PUSH_TAG, storeId: TARGET, batch: [{ name: 'v1.X', args: {}, seqNum: 2, parentSeqNum: 1, clientId: 'm', sessionId: 'm' }] })
      const pullArgs = (payload) => `args=${encodeURIComponent(JSON.stringify({ _tag: PULL_TAG, storeId: TARGET, payload, handle: { _tag: 'Some', value: { offset: '1_0', handle: 'h' } }, live: false }))}`
      const tries = [
        ['push, Authorization', { ...push(body, { Authorization: `Bearer ${token}` }) }],
        ['push, ?token=', { ...push(body), target: `/api/electric?token=${encodeURIComponent(token)}` }],
        ['push, cookie', { ...push(body, { Cookie: `livestore_token=${token}` }) }],
        ['pull, payload', { target: `/api/electric?${pullArgs({ authToken: token })}` }],
        ['pull, cookie', { target: `/api/electric?${pullArgs(undefined)}`, headers: { Cookie: `livestore_token=${token}` } }],
        ['pull, ?token=?args=', { target: `/api/electric?token=${encodeURIComponent(token)}?${pullArgs(undefined)}` }],
      ]
      for (const [channel, req] of tries) {
        const r = await raw(g.port, req)
        // A 17 KiB cookie may also overflow libmicrohttpd's per-connection memory (431).
        const ok = r.status === 401 || (r.status === 431 && token.length > 16 * 1024 && channel.includes('cookie'))
        results.push({ what, channel, status: r.status, ok, text: r.text.split('\r\n\r\n')[1]?.slice(0, 100) })
      }
    }
    for (const r of results.filter((x) => x.channel === 'push, Authorization')) t.diagnostic(`${r.what.padEnd(58)} | ${r.status} ${r.text}`)
    assert.deepEqual(results.filter((r) => !r.ok).map((r) => `${r.what} (${r.channel}): ${r.status} ${r.text}`), [])
    assert.equal(await count(), before, 'nothing written')
    assert.ok(g.proc, 'gateway still running')
    t.diagnostic(`${FORGED.length} forged or malformed tokens x ${results.length / FORGED.length} channels: all refused`)
  } finally {
    await g.stop()
  }
})

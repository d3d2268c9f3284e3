// JWT helpers for the tests, on node:crypto only (an implementation
// independent of the gateway's OpenSSL code): keys generated at test time,
// their public JWKs and PEM, tokens signed with any algorithm, and a local
// JWKS server (127.0.0.1) whose document, delay and availability a test
// controls, counting the fetches.
import { constants, createHmac, generateKeyPairSync, sign } from 'node:crypto'
import { createServer } from 'node:http'

export const b64url = (data) => Buffer.from(data).toString('base64url')
export const now = () => Math.floor(Date.now() / 1000)

/**
 * A key pair: kind 'rsa' (2048 bits), 'ec-p256', 'ec-p384', 'ec-p521', 'ed25519'.
 * Returns { kid, kind, alg (default algorithm), privateKey, publicKey, jwk(extra), pem }.
 */
export function makeKey(kind, kid) {
  const opts = {
    rsa: ['rsa', { modulusLength: 2048 }, 'RS256'],
    'ec-p256': ['ec', { namedCurve: 'P-256' }, 'ES256'],
    'ec-p384': ['ec', { namedCurve: 'P-384' }, 'ES384'],
    'ec-p521': ['ec', { namedCurve: 'P-521' }, 'ES512'],
    ed25519: ['ed25519', {}, 'EdDSA'],
  }[kind]
  if (!opts) throw new Error(`unknown key kind ${kind}`)
  const { privateKey, publicKey } = generateKeyPairSync(opts[0], opts[1])
  return {
    kid,
    kind,
    alg: opts[2],
    privateKey,
    publicKey,
    /** The public JWK (kid, use sig), plus `extra` members. */
    jwk: (extra = {}) => ({ ...publicKey.export({ format: 'jwk' }), kid, use: 'sig', ...extra }),
    pem: publicKey.export({ format: 'pem', type: 'spki' }),
  }
}

/** Signature bytes of `input` with `key` as `alg` (RS*, PS*, ES*, EdDSA, or HS256 with a secret). */
export function signBytes(alg, key, input) {
  if (alg === 'HS256') return createHmac('sha256', key).update(input).digest()
  if (alg === 'EdDSA') return sign(null, Buffer.from(input), key)
  const hash = `sha${alg.slice(2)}`
  if (alg.startsWith('RS')) return sign(hash, Buffer.from(input), key)
  if (alg.startsWith('PS'))
    return sign(hash, Buffer.from(input), { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST })
  if (alg.startsWith('ES')) return sign(hash, Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' })
  throw new Error(`unknown alg ${alg}`)
}

/**
 * A signed token. opts: alg (default: the key's), kid (default: the key's; null: none),
 * header (extra header members), signingKey (override, e.g. another key or an HMAC secret).
 */
export function signJwt(key, claims, { alg = key.alg, kid = key.kid, header = {}, signingKey } = {}) {
  const h = { alg, typ: 'JWT', ...(kid == null ? {} : { kid }), ...header }
  const input = `${b64url(JSON.stringify(h))}.${b64url(typeof claims === 'string' ? claims : JSON.stringify(claims))}`
  return `${input}.${b64url(signBytes(alg, signingKey ?? key.privateKey, input))}`
}

/** A token with any header and payload text and any signature bytes (forgeries). */
export const rawJwt = (header, payload, signature = '') =>
  `${b64url(typeof header === 'string' ? header : JSON.stringify(header))}.${b64url(typeof payload === 'string' ? payload : JSON.stringify(payload))}.${b64url(signature)}`

/**
 * A JWKS endpoint on 127.0.0.1: GET <url> answers { keys } as JSON.
 * Control: setKeys(jwks), delayMs, status (answer this status instead), cacheControl,
 * stop() / start() (the port stays the same), fetches (count), url.
 */
export async function startJwksServer({ keys = [], cacheControl = null, path = '/.well-known/jwks.json' } = {}) {
  const state = { keys, delayMs: 0, status: 200, cacheControl, fetches: 0, server: null, port: 0 }
  const handler = (req, res) => {
    if (req.url !== path) {
      res.writeHead(404).end()
      return
    }
    state.fetches++
    const answer = () => {
      const headers = { 'content-type': 'application/json' }
      if (state.cacheControl) headers['cache-control'] = state.cacheControl
      res.writeHead(state.status, headers)
      res.end(state.status === 200 ? JSON.stringify({ keys: state.keys }) : 'unavailable')
    }
    if (state.delayMs > 0) setTimeout(answer, state.delayMs)
    else answer()
  }
  const listen = (port) =>
    new Promise((resolve, reject) => {
      const server = createServer(handler)
      server.keepAliveTimeout = 1000
      server.on('error', reject)
      server.listen(port, '127.0.0.1', () => {
        state.server = server
        state.port = server.address().port
        resolve()
      })
    })
  await listen(0)
  const api = {
    get url() { return `http://127.0.0.1:${state.port}${path}` },
    get fetches() { return state.fetches },
    set delayMs(ms) { state.delayMs = ms },
    set status(s) { state.status = s },
    set cacheControl(v) { state.cacheControl = v },
    setKeys(keys) { state.keys = keys },
    /** Refuse connections from now on (the provider is down). */
    async stop() {
      if (!state.server) return
      const s = state.server
      state.server = null
      s.closeAllConnections?.()
      await new Promise((r) => s.close(() => r()))
    },
    /** Serve again on the same port. */
    async start() {
      if (!state.server) await listen(state.port)
    },
  }
  return api
}

#!/usr/bin/env node
// A stand-in identity provider for the demo (Node builtins only). It does what
// matters to the gateway and nothing else: it signs ES256 tokens with a key it
// generates at start and publishes the public key as a JWKS, like Auth0, Clerk,
// Keycloak, Supabase, Firebase or Cognito do.
//
//   GET /.well-known/jwks.json        {"keys":[...]}   (what --jwt-jwks-url points at)
//   GET /token?user=NAME              {"token", "expiresAt"}: a token for NAME (sub = NAME)
//
// It has no passwords: anyone who asks gets a token for any user. A real
// provider signs the user in first; never use this outside a demo.
//
//   node idp.mjs [--port 8788] [--host 127.0.0.1] [--ttl 28800]
// Importable too: startIdp({ port, host, ttlSeconds }) resolves to { url, issuer, audience, close() }.
import { generateKeyPairSync, sign } from 'node:crypto'
import { createServer } from 'node:http'
import { pathToFileURL } from 'node:url'

export const AUDIENCE = 'todomvc'
const b64 = (x) => Buffer.from(x).toString('base64url')

export function startIdp({ port = 0, host = '127.0.0.1', ttlSeconds = 8 * 3600 } = {}) {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const kid = `demo-${Date.now().toString(36)}`
  const jwks = JSON.stringify({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'ES256' }] })
  let issuer = ''
  const token = (user) => {
    const now = Math.floor(Date.now() / 1000)
    const claims = { iss: issuer, aud: AUDIENCE, sub: user, name: user, iat: now, exp: now + ttlSeconds }
    const input = `${b64(JSON.stringify({ alg: 'ES256', typ: 'JWT', kid }))}.${b64(JSON.stringify(claims))}`
    return { token: `${input}.${b64(sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' }))}`, expiresAt: claims.exp * 1000 }
  }
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://x')
    // The page (another origin) asks for its token with fetch.
    const headers = { 'access-control-allow-origin': '*', 'cache-control': 'no-store', 'content-type': 'application/json' }
    if (url.pathname === '/.well-known/jwks.json') return res.writeHead(200, { ...headers, 'cache-control': 'max-age=300' }).end(jwks)
    const user = url.searchParams.get('user') ?? ''
    if (url.pathname === '/token' && /^[A-Za-z0-9_.@-]{1,64}$/.test(user)) return res.writeHead(200, headers).end(JSON.stringify(token(user)))
    res.writeHead(404, headers).end('{"error":"not found"}')
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      const url = `http://${host}:${server.address().port}`
      issuer = `${url}/`
      resolve({
        url,
        issuer,
        audience: AUDIENCE,
        jwksUrl: `${url}/.well-known/jwks.json`,
        token: (user) => token(user).token,
        close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()) }),
      })
    })
  })
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const opt = (name, dflt) => {
    const i = process.argv.indexOf(`--${name}`)
    return i > 0 ? process.argv[i + 1] : dflt
  }
  const idp = await startIdp({ port: Number(opt('port', '8788')), host: opt('host', '127.0.0.1'), ttlSeconds: Number(opt('ttl', '28800')) })
  console.log(`stand-in identity provider on ${idp.url} (issuer ${idp.issuer}, audience ${idp.audience})`)
  const stop = () => idp.close().then(() => process.exit(0))
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}

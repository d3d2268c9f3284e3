// Keys, tokens and pull URLs for the auth benchmark (bench/run.sh, section 8).
//   node bench/auth.mjs keys DIR              writes DIR/jwks.json (an RSA 2048 and an EC P-256 key),
//                                             DIR/rs256.token and DIR/es256.token (valid for a day)
//   node bench/auth.mjs pullurl ENDPOINT STORE AUTHTOKEN [JWT]
//                                             a non-live pull URL at offset 0 of STORE (an empty store:
//                                             an empty page), payload.authToken AUTHTOKEN, ?token=JWT
import { writeFileSync } from 'node:fs'
import path from 'node:path'

import { makeKey, now, signJwt } from '../test/lib/jwt.mjs'

const [cmd, ...args] = process.argv.slice(2)
if (cmd === 'keys') {
  const [dir] = args
  const rsa = makeKey('rsa', 'bench-rsa'), ec = makeKey('ec-p256', 'bench-ec')
  writeFileSync(path.join(dir, 'jwks.json'), JSON.stringify({ keys: [rsa.jwk(), ec.jwk()] }))
  // Shaped like a provider's token: issuer, audience, a nested claims object.
  const claims = {
    iss: 'https://bench.idp.test/', aud: ['livestore', 'https://bench.idp.test/userinfo'], sub: 'bench-user',
    iat: now(), exp: now() + 86400, scope: 'openid profile', app_metadata: { livestore: { read: '*', write: '*' } },
  }
  writeFileSync(path.join(dir, 'rs256.token'), signJwt(rsa, claims))
  writeFileSync(path.join(dir, 'es256.token'), signJwt(ec, claims))
} else if (cmd === 'pullurl') {
  const [endpoint, store, authToken, jwt] = args
  const a = { _tag: '@livestore/sync-electric.Pull', storeId: store, payload: { authToken },
    handle: { _tag: 'Some', value: { offset: '0_0', handle: 'bench' } }, live: false }
  console.log(`${endpoint}?${jwt ? `token=${jwt}&` : ''}args=${encodeURIComponent(JSON.stringify(a))}`)
} else {
  console.error('usage: node bench/auth.mjs keys DIR | pullurl ENDPOINT STORE AUTHTOKEN [JWT]')
  process.exit(2)
}

"""Verify a Guildhall access token with PyJWT, independently of the server's own JWT code.

usage: jwt_verify.py JWKS_URL TOKEN AUDIENCE ISSUER  -> prints the verified claims as JSON
"""
import json
import sys

import jwt

jwks_url, token, audience, issuer = sys.argv[1:5]
signing_key = jwt.PyJWKClient(jwks_url, cache_keys=False).get_signing_key_from_jwt(token)
claims = jwt.decode(token, signing_key.key, algorithms=["ES256"], audience=audience, issuer=issuer)
print(json.dumps(claims))

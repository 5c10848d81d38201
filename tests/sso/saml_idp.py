#!/usr/bin/env python3
"""A test SAML identity provider: reads one JSON request on stdin and prints the base64 of a
signed SAMLResponse (HTTP-POST binding), shaped like Okta's. `attack` names a mutation applied
after signing; every attack must be refused by Guildhall's verifier.

Signing uses signxml (exclusive c14n, RSA-SHA256 and SHA-256 by default) and lxml.

Request fields: key_pem, cert_pem, issuer, response_issuer (default issuer), audience, recipient,
destination (default recipient; null leaves it out), in_response_to (null: none), name_id,
name_id_format, attributes {name: [values]}, issue_instant / not_before / not_on_or_after /
subject_not_on_or_after (unix seconds), status (default Success), sign ("assertion" | "response" |
"both" | "none"), signature_algorithm / digest_algorithm (URIs), attack (null: none), count (null:
one response, printed without a newline; N: N responses, one a line, each with fresh Response and
Assertion IDs, for a load bench that spends each assertion once), encrypt (null: the assertion in
the clear; else {"cert_pem": the SP's certificate, "content": "aes128-cbc" | "aes256-cbc" |
"aes128-gcm" | "aes256-gcm", "transport": "rsa-oaep-mgf1p" | "rsa-oaep-sha256" | "rsa-1_5",
"key_placement": "inline" | "beside", "tamper": flip a ciphertext byte}). The assertion is signed
first, then encrypted (XML Encryption, with the `cryptography` package), then the response signed.

With {"op": "verify_redirect", "url": ..., "cert_pem": ...} it instead checks the signature of an
HTTP-Redirect binding AuthnRequest URL (SAML bindings 3.4.4.1) and prints {"valid", "sig_alg",
"request_id"}.
"""

import base64
import copy
import datetime
import json
import os
import sys
import urllib.parse
import uuid
import zlib

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml import XMLSigner
from signxml.algorithms import CanonicalizationMethod

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
DS = "http://www.w3.org/2000/09/xmldsig#"
XS = "http://www.w3.org/2001/XMLSchema"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XENC = "http://www.w3.org/2001/04/xmlenc#"
XENC11 = "http://www.w3.org/2009/xmlenc11#"
CONTENT = {
    "aes128-cbc": (XENC + "aes128-cbc", 16),
    "aes256-cbc": (XENC + "aes256-cbc", 32),
    "aes128-gcm": (XENC11 + "aes128-gcm", 16),
    "aes256-gcm": (XENC11 + "aes256-gcm", 32),
}
FORGED_NAME_ID = "admin@attacker.example"

ATTACKS = {
    "sibling_before",
    "sibling_after",
    "wrapper",
    "extensions",
    "duplicate_id",
    "in_signature_object",
    "comment_in_nameid",
    "attribute_changed",
    "nameid_changed",
    "dtd_xxe",
    "other_key",
}


class Signer(XMLSigner):
    """signxml refuses SHA-1 by default; the test needs it to show that WE refuse it."""

    def check_deprecated_methods(self):
        pass


def instant(seconds):
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def new_id():
    return "id" + uuid.uuid4().hex


def q(ns, tag):
    return "{%s}%s" % (ns, tag)


def sub(parent, ns, tag, text=None, **attrs):
    el = etree.SubElement(parent, q(ns, tag), {k: v for k, v in attrs.items() if v is not None})
    if text is not None:
        el.text = text
    return el


def placeholder(parent, index):
    """Where signxml puts the enveloped signature: right after the Issuer, as the schema asks."""
    el = etree.Element(q(DS, "Signature"), Id="placeholder", nsmap={"ds": DS})
    parent.insert(index, el)


def sign(element, req, key_pem, cert_pem):
    signer = Signer(
        signature_algorithm=req.get("signature_algorithm") or "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
        digest_algorithm=req.get("digest_algorithm") or "http://www.w3.org/2001/04/xmlenc#sha256",
        c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
    )
    signer.namespaces = {"ds": DS}
    placeholder(element, 1)
    return signer.sign(
        element,
        key=key_pem,
        cert=cert_pem,
        reference_uri="#" + element.get("ID"),
        id_attribute="ID",
    )


def throwaway_key():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "attacker")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return key_pem, cert.public_bytes(serialization.Encoding.PEM).decode()


def build_assertion(req):
    a = etree.Element(
        q(SAML, "Assertion"),
        {"ID": new_id(), "IssueInstant": instant(req["issue_instant"]), "Version": "2.0"},
        nsmap={"saml2": SAML, "xs": XS},
    )
    sub(a, SAML, "Issuer", req["issuer"], Format="urn:oasis:names:tc:SAML:2.0:nameid-format:entity")
    subject = sub(a, SAML, "Subject")
    sub(subject, SAML, "NameID", req["name_id"], Format=req["name_id_format"])
    confirmation = sub(subject, SAML, "SubjectConfirmation", Method="urn:oasis:names:tc:SAML:2.0:cm:bearer")
    sub(
        confirmation,
        SAML,
        "SubjectConfirmationData",
        InResponseTo=req.get("in_response_to"),
        NotOnOrAfter=instant(req.get("subject_not_on_or_after") or req["not_on_or_after"]),
        Recipient=req["recipient"],
    )
    conditions = sub(
        a, SAML, "Conditions", NotBefore=instant(req["not_before"]), NotOnOrAfter=instant(req["not_on_or_after"])
    )
    restriction = sub(conditions, SAML, "AudienceRestriction")
    sub(restriction, SAML, "Audience", req["audience"])
    authn = sub(
        a,
        SAML,
        "AuthnStatement",
        AuthnInstant=instant(req["issue_instant"]),
        SessionIndex="_" + uuid.uuid4().hex,
    )
    context = sub(authn, SAML, "AuthnContext")
    sub(context, SAML, "AuthnContextClassRef", "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport")
    attributes = req.get("attributes") or {}
    if attributes:
        statement = sub(a, SAML, "AttributeStatement")
        for name, values in attributes.items():
            attribute = sub(
                statement,
                SAML,
                "Attribute",
                Name=name,
                NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified",
            )
            for value in values:
                v = etree.SubElement(attribute, q(SAML, "AttributeValue"), nsmap={"xsi": XSI})
                v.set(q(XSI, "type"), "xs:string")
                v.text = value
    return a


def build_response(req, assertion):
    r = etree.Element(
        q(SAMLP, "Response"),
        {
            k: v
            for k, v in {
                "Destination": req.get("destination", req["recipient"]),
                "ID": new_id(),
                "InResponseTo": req.get("in_response_to"),
                "IssueInstant": instant(req["issue_instant"]),
                "Version": "2.0",
            }.items()
            if v is not None
        },
        nsmap={"saml2p": SAMLP},
    )
    issuer = etree.SubElement(r, q(SAML, "Issuer"), nsmap={"saml2": SAML})
    issuer.set("Format", "urn:oasis:names:tc:SAML:2.0:nameid-format:entity")
    issuer.text = req.get("response_issuer") or req["issuer"]
    status = sub(r, SAMLP, "Status")
    sub(status, SAMLP, "StatusCode", Value=req.get("status") or "urn:oasis:names:tc:SAML:2.0:status:Success")
    if assertion is not None:
        r.append(assertion)
    return r


def forged_copy(assertion, keep_id=False, keep_signature=False):
    forged = copy.deepcopy(assertion)
    if not keep_signature:
        for sig in forged.findall(q(DS, "Signature")):
            forged.remove(sig)
    if not keep_id:
        forged.set("ID", new_id())
    name_id = forged.find("%s/%s" % (q(SAML, "Subject"), q(SAML, "NameID")))
    name_id.text = FORGED_NAME_ID
    return forged


def apply_attack(attack, response, assertion):
    """Mutations of the signed document. Returns text when the attack is made on the text."""
    if attack == "sibling_before":
        assertion.addprevious(forged_copy(assertion))
    elif attack == "sibling_after":
        assertion.addnext(forged_copy(assertion))
    elif attack == "wrapper":
        forged = forged_copy(assertion)
        assertion.addprevious(forged)
        wrapper = etree.SubElement(response, "{urn:example:evil}Wrapper", nsmap={"evil": "urn:example:evil"})
        wrapper.append(assertion)  # moves it
    elif attack == "extensions":
        forged = forged_copy(assertion)
        assertion.addprevious(forged)
        extensions = etree.Element(q(SAMLP, "Extensions"))
        response.insert(1, extensions)
        extensions.append(assertion)
    elif attack == "duplicate_id":
        assertion.addprevious(forged_copy(assertion, keep_id=True))
    elif attack == "in_signature_object":
        forged = forged_copy(assertion, keep_signature=True)
        assertion.addprevious(forged)
        signature = forged.find(q(DS, "Signature"))
        obj = etree.SubElement(signature, q(DS, "Object"))
        obj.append(assertion)
    elif attack == "comment_in_nameid":
        name_id = assertion.find("%s/%s" % (q(SAML, "Subject"), q(SAML, "NameID")))
        text = name_id.text
        cut = text.index("@") if "@" in text else len(text) // 2
        name_id.text = text[:cut]
        comment = etree.Comment("")
        comment.tail = text[cut:]
        name_id.append(comment)
    elif attack == "attribute_changed":
        value = assertion.find(".//%s" % q(SAML, "AttributeValue"))
        if value is None:
            raise SystemExit("attribute_changed needs at least one attribute")
        value.text = (value.text or "") + "-admins"
    elif attack == "nameid_changed":
        assertion.find("%s/%s" % (q(SAML, "Subject"), q(SAML, "NameID"))).text = FORGED_NAME_ID
    elif attack in ("dtd_xxe", "other_key", None):
        pass
    else:
        raise SystemExit("unknown attack %r (known: %s)" % (attack, ", ".join(sorted(ATTACKS))))
    return None


def cert_der(pem):
    return x509.load_pem_x509_certificate(pem.encode()).public_bytes(serialization.Encoding.DER)


def encrypt_assertion(assertion, enc):
    """An EncryptedAssertion holding `assertion`, for the holder of enc["cert_pem"]."""
    content_uri, key_len = CONTENT[enc.get("content") or "aes256-cbc"]
    plain = etree.tostring(assertion, encoding="utf-8")
    key = os.urandom(key_len)
    if content_uri.endswith("gcm"):
        nonce = os.urandom(12)
        data = nonce + AESGCM(key).encrypt(nonce, plain, None)
    else:
        iv = os.urandom(16)
        pad = 16 - len(plain) % 16
        padded = plain + os.urandom(pad - 1) + bytes([pad])
        encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
        data = iv + encryptor.update(padded) + encryptor.finalize()
    if enc.get("tamper"):
        middle = len(data) // 2
        data = data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1 :]
    certificate = x509.load_pem_x509_certificate(enc["cert_pem"].encode())
    transport = enc.get("transport") or "rsa-oaep-mgf1p"
    if transport == "rsa-oaep-mgf1p":
        wrapped = certificate.public_key().encrypt(
            key, padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
        )
    elif transport == "rsa-oaep-sha256":
        wrapped = certificate.public_key().encrypt(
            key, padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
        )
    elif transport == "rsa-1_5":
        wrapped = certificate.public_key().encrypt(key, padding.PKCS1v15())
    else:
        raise SystemExit("unknown transport %r" % transport)

    encrypted = etree.Element(q(SAML, "EncryptedAssertion"), nsmap={"saml2": SAML})
    data_el = etree.SubElement(
        encrypted, q(XENC, "EncryptedData"), {"Type": XENC + "Element"}, nsmap={"xenc": XENC}
    )
    sub(data_el, XENC, "EncryptionMethod", Algorithm=content_uri)
    encrypted_key = etree.Element(q(XENC, "EncryptedKey"), nsmap={"xenc": XENC})
    if transport == "rsa-oaep-mgf1p":
        method = sub(encrypted_key, XENC, "EncryptionMethod", Algorithm=XENC + "rsa-oaep-mgf1p")
        sub(method, DS, "DigestMethod", Algorithm="http://www.w3.org/2000/09/xmldsig#sha1")
    elif transport == "rsa-oaep-sha256":
        method = sub(encrypted_key, XENC, "EncryptionMethod", Algorithm=XENC11 + "rsa-oaep")
        sub(method, DS, "DigestMethod", Algorithm=XENC + "sha256")
        sub(method, XENC11, "MGF", Algorithm=XENC11 + "mgf1sha256")
    else:
        sub(encrypted_key, XENC, "EncryptionMethod", Algorithm=XENC + "rsa-1_5")
    key_info = sub(encrypted_key, DS, "KeyInfo")
    x509_data = sub(key_info, DS, "X509Data")
    sub(x509_data, DS, "X509Certificate", base64.b64encode(cert_der(enc["cert_pem"])).decode())
    sub(sub(encrypted_key, XENC, "CipherData"), XENC, "CipherValue", base64.b64encode(wrapped).decode())
    if (enc.get("key_placement") or "inline") == "inline":
        sub(data_el, DS, "KeyInfo").append(encrypted_key)
    else:
        encrypted.append(encrypted_key)
    sub(sub(data_el, XENC, "CipherData"), XENC, "CipherValue", base64.b64encode(data).decode())
    return encrypted


def verify_redirect(req):
    """Checks an HTTP-Redirect AuthnRequest's signature over the raw query parameters."""
    query = urllib.parse.urlsplit(req["url"]).query
    raw = dict(part.split("=", 1) for part in query.split("&") if "=" in part)
    inflated = zlib.decompress(base64.b64decode(urllib.parse.unquote_plus(raw["SAMLRequest"])), -15)
    request = etree.fromstring(inflated)
    out = {"valid": False, "sig_alg": None, "request_id": request.get("ID")}
    if "Signature" not in raw:
        return out
    signed = "&".join(
        "%s=%s" % (name, raw[name]) for name in ("SAMLRequest", "RelayState", "SigAlg") if name in raw
    )
    out["sig_alg"] = urllib.parse.unquote_plus(raw["SigAlg"])
    signature = base64.b64decode(urllib.parse.unquote_plus(raw["Signature"]))
    public = x509.load_pem_x509_certificate(req["cert_pem"].encode()).public_key()
    try:
        public.verify(signature, signed.encode(), padding.PKCS1v15(), hashes.SHA256())
        out["valid"] = out["sig_alg"] == "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    except Exception:
        pass
    return out


def signed_response(req, attack, key_pem, cert_pem, what):
    """The base64 of one signed response (fresh IDs each time)."""
    assertion = build_assertion(req)
    if what in ("assertion", "both"):
        assertion = sign(assertion, req, key_pem, cert_pem)
    if req.get("encrypt"):
        assertion = encrypt_assertion(assertion, req["encrypt"])
    response = build_response(req, assertion)
    if what in ("response", "both"):
        response = sign(response, req, key_pem, cert_pem)
    assertion = response.find(q(SAML, "Assertion"))

    apply_attack(attack, response, assertion)
    xml = etree.tostring(response, encoding="unicode")
    if attack == "dtd_xxe":
        name_id = assertion.find("%s/%s" % (q(SAML, "Subject"), q(SAML, "NameID"))).text
        xml = xml.replace(">%s<" % name_id, ">&xxe;<", 1)
        xml = '<!DOCTYPE saml2p:Response [<!ENTITY xxe SYSTEM "file:///etc/hostname">]>' + xml
    xml = '<?xml version="1.0" encoding="UTF-8"?>' + xml
    return base64.b64encode(xml.encode("utf-8")).decode("ascii")


def main():
    req = json.load(sys.stdin)
    if req.get("op") == "verify_redirect":
        sys.stdout.write(json.dumps(verify_redirect(req)))
        return
    attack = req.get("attack")
    key_pem, cert_pem = req["key_pem"], req["cert_pem"]
    if attack == "other_key":
        key_pem, cert_pem = throwaway_key()
    what = req.get("sign", "assertion")
    if what not in ("assertion", "response", "both", "none"):
        raise SystemExit("sign must be assertion, response, both or none")
    count = req.get("count")
    if count is None:
        sys.stdout.write(signed_response(req, attack, key_pem, cert_pem, what))
        return
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise SystemExit("count must be a non-negative integer")
    for _ in range(count):
        sys.stdout.write(signed_response(req, attack, key_pem, cert_pem, what) + "\n")


if __name__ == "__main__":
    main()

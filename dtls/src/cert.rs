//! Certificates: a self-signed ECDSA P-256 certificate for us (rcgen), its SHA-256
//! fingerprint for SDP (RFC 8122 §5), and a minimal, bounded DER walker that extracts the
//! peer's SubjectPublicKeyInfo (RFC 5280 §4.1).
//!
//! Why our own walker and not rustls-webpki: WebRTC never validates a chain, names or dates,
//! only the fingerprint and then the key inside; that needs six DER elements, and a walker of
//! 80 lines that cannot panic keeps the crate's dependencies at ring + rcgen.

use core::fmt;
use core::str::FromStr;

use crate::Error;

/// Our certificate: DER and the PKCS#8 private key.
#[derive(Clone)]
pub struct Certificate {
    der: Vec<u8>,
    pkcs8: Vec<u8>,
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("fingerprint", &self.fingerprint())
            .finish_non_exhaustive()
    }
}

impl Certificate {
    /// Generate a fresh self-signed ECDSA P-256 certificate (CN `sansrtc`), as WebRTC
    /// endpoints do (RFC 8827 §6.5).
    pub fn generate_self_signed() -> Result<Self, Error> {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
            .map_err(|_| Error::Crypto("P-256 key generation"))?;
        let mut params = rcgen::CertificateParams::new(vec!["sansrtc".to_string()])
            .map_err(|_| Error::Crypto("certificate parameters"))?;
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "sansrtc");
        let cert = params
            .self_signed(&key)
            .map_err(|_| Error::Crypto("self-signing"))?;
        Ok(Self {
            der: cert.der().to_vec(),
            pkcs8: key.serialize_der(),
        })
    }

    /// From a DER certificate and its PKCS#8 (DER) P-256 private key.
    #[must_use]
    pub fn from_der(der: Vec<u8>, pkcs8: Vec<u8>) -> Self {
        Self { der, pkcs8 }
    }

    /// The DER encoding.
    #[must_use]
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The PKCS#8 private key.
    #[must_use]
    pub fn pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }

    /// SHA-256 fingerprint of the DER certificate.
    #[must_use]
    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint::of(&self.der)
    }
}

/// A SHA-256 certificate fingerprint (RFC 8122 §5). Displays as `AB:CD:...`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    /// Fingerprint of DER bytes.
    #[must_use]
    pub fn of(der: &[u8]) -> Self {
        let d = ring::digest::digest(&ring::digest::SHA256, der);
        let mut out = [0u8; 32];
        for (o, i) in out.iter_mut().zip(d.as_ref()) {
            *o = *i;
        }
        Self(out)
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

impl FromStr for Fingerprint {
    type Err = Error;
    /// Parses `AB:CD:...` (32 octets), optionally prefixed by `sha-256 ` as in SDP.
    fn from_str(s: &str) -> Result<Self, Error> {
        let s = s.trim();
        let s = s
            .strip_prefix("sha-256 ")
            .or_else(|| s.strip_prefix("SHA-256 "))
            .unwrap_or(s);
        let mut out = [0u8; 32];
        let mut n = 0usize;
        for part in s.split(':') {
            let b = u8::from_str_radix(part, 16).map_err(|_| Error::InvalidField {
                field: "fingerprint octet",
                value: n as u64,
            })?;
            let slot = out.get_mut(n).ok_or(Error::InvalidField {
                field: "fingerprint length",
                value: n as u64 + 1,
            })?;
            *slot = b;
            n += 1;
        }
        if n != 32 {
            return Err(Error::InvalidField {
                field: "fingerprint length",
                value: n as u64,
            });
        }
        Ok(Self(out))
    }
}

/// A peer public key, as found in its certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    /// ECDSA P-256: uncompressed point.
    EcP256(Vec<u8>),
    /// ECDSA P-384: uncompressed point.
    EcP384(Vec<u8>),
    /// RSA: the RSAPublicKey DER.
    Rsa(Vec<u8>),
    /// Ed25519: 32 bytes.
    Ed25519(Vec<u8>),
}

const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const OID_P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];

/// One DER TLV: returns (tag, content, rest). Only definite lengths up to 4 length octets.
fn der_tlv(buf: &[u8]) -> Result<(u8, &[u8], &[u8]), Error> {
    let bad = Error::BadCertificate("malformed DER");
    let (&tag, rest) = buf.split_first().ok_or(bad.clone())?;
    let (&l0, mut rest) = rest.split_first().ok_or(bad.clone())?;
    let len = if l0 < 0x80 {
        usize::from(l0)
    } else {
        let n = usize::from(l0 & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return Err(bad);
        }
        let (lb, r) = rest.split_at(n);
        rest = r;
        lb.iter().fold(0usize, |a, &b| (a << 8) | usize::from(b))
    };
    if rest.len() < len {
        return Err(bad);
    }
    let (content, rest) = rest.split_at(len);
    Ok((tag, content, rest))
}

fn expect(buf: &[u8], tag: u8) -> Result<(&[u8], &[u8]), Error> {
    let (t, c, r) = der_tlv(buf)?;
    if t != tag {
        return Err(Error::BadCertificate("unexpected DER tag"));
    }
    Ok((c, r))
}

/// Extract the subject public key from a DER X.509 certificate.
pub fn parse_public_key(cert_der: &[u8]) -> Result<PublicKey, Error> {
    let (cert, _) = expect(cert_der, 0x30)?;
    let (tbs, _) = expect(cert, 0x30)?;
    let mut rest = tbs;
    // Optional [0] EXPLICIT version.
    if rest.first() == Some(&0xa0) {
        rest = der_tlv(rest)?.2;
    }
    let (_, rest) = expect(rest, 0x02)?; // serialNumber
    let (_, rest) = expect(rest, 0x30)?; // signature
    let (_, rest) = expect(rest, 0x30)?; // issuer
    let (_, rest) = expect(rest, 0x30)?; // validity
    let (_, rest) = expect(rest, 0x30)?; // subject
    let (spki, _) = expect(rest, 0x30)?;
    let (alg, rest) = expect(spki, 0x30)?;
    let (bits, _) = expect(rest, 0x03)?;
    let (oid, params) = expect(alg, 0x06)?;
    let key = match bits.split_first() {
        Some((0, k)) => k.to_vec(),
        _ => return Err(Error::BadCertificate("public key BIT STRING")),
    };
    if oid == OID_EC_PUBLIC_KEY {
        let (curve, _) = expect(params, 0x06)?;
        if curve == OID_P256 {
            Ok(PublicKey::EcP256(key))
        } else if curve == OID_P384 {
            Ok(PublicKey::EcP384(key))
        } else {
            Err(Error::BadCertificate("unsupported elliptic curve"))
        }
    } else if oid == OID_RSA {
        Ok(PublicKey::Rsa(key))
    } else if oid == OID_ED25519 {
        Ok(PublicKey::Ed25519(key))
    } else {
        Err(Error::BadCertificate("unsupported public key algorithm"))
    }
}

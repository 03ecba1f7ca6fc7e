//! Crypto: the TLS 1.2 PRF and key schedule (RFC 5246 §5, §6.3, §8.1; RFC 7627 §4;
//! RFC 5705 §4), AEAD record protection (RFC 5288 §3, RFC 7905 §2, RFC 6347 §4.1.2.1), and
//! the small backend trait that holds everything that needs randomness (randoms, ECDHE,
//! signing), so tests and fuzzers can swap in a deterministic backend.

use rand::{RngCore, SeedableRng, rngs::StdRng};
use ring::{aead, agreement, digest, hmac, signature};

use crate::Error;
use crate::cert::{Certificate, PublicKey, parse_public_key};
use crate::config::{CipherSuite, CryptoBackend, NamedGroup, SignatureScheme};

/// TLS 1.2 PRF: `P_hash(secret, label || seed)` truncated to `len` (RFC 5246 §5).
#[must_use]
pub fn prf(sha384: bool, secret: &[u8], label: &[u8], seed: &[u8], len: usize) -> Vec<u8> {
    let alg = if sha384 {
        hmac::HMAC_SHA384
    } else {
        hmac::HMAC_SHA256
    };
    let key = hmac::Key::new(alg, secret);
    let mut label_seed = Vec::with_capacity(label.len() + seed.len());
    label_seed.extend_from_slice(label);
    label_seed.extend_from_slice(seed);
    let mut out = Vec::with_capacity(len + 48);
    let mut a = hmac::sign(&key, &label_seed);
    while out.len() < len {
        let mut ctx = hmac::Context::with_key(&key);
        ctx.update(a.as_ref());
        ctx.update(&label_seed);
        out.extend_from_slice(ctx.sign().as_ref());
        a = hmac::sign(&key, a.as_ref());
    }
    out.truncate(len);
    out
}

/// Hash of the handshake transcript with the suite's PRF hash.
#[must_use]
pub fn transcript_hash(sha384: bool, data: &[u8]) -> Vec<u8> {
    let alg = if sha384 {
        &digest::SHA384
    } else {
        &digest::SHA256
    };
    digest::digest(alg, data).as_ref().to_vec()
}

/// master_secret: with EMS `PRF(pms, "extended master secret", session_hash)` (RFC 7627 §4),
/// else `PRF(pms, "master secret", client_random || server_random)` (RFC 5246 §8.1).
#[must_use]
pub fn master_secret(
    sha384: bool,
    pms: &[u8],
    ems_session_hash: Option<&[u8]>,
    client_random: &[u8; 32],
    server_random: &[u8; 32],
) -> Vec<u8> {
    match ems_session_hash {
        Some(h) => prf(sha384, pms, b"extended master secret", h, 48),
        None => {
            let mut seed = client_random.to_vec();
            seed.extend_from_slice(server_random);
            prf(sha384, pms, b"master secret", &seed, 48)
        }
    }
}

/// RFC 5705 §4 exporter without context: `PRF(master, label, client_random || server_random)`.
#[must_use]
pub fn export(
    sha384: bool,
    master: &[u8],
    label: &[u8],
    client_random: &[u8; 32],
    server_random: &[u8; 32],
    len: usize,
) -> Vec<u8> {
    let mut seed = client_random.to_vec();
    seed.extend_from_slice(server_random);
    prf(sha384, master, label, &seed, len)
}

/// Key and IV lengths of a suite: (key, fixed IV).
fn key_iv_len(suite: CipherSuite) -> (usize, usize) {
    match suite {
        CipherSuite::EcdheEcdsaAes128GcmSha256 | CipherSuite::EcdheRsaAes128GcmSha256 => (16, 4),
        CipherSuite::EcdheEcdsaAes256GcmSha384 => (32, 4),
        CipherSuite::EcdheEcdsaChacha20Poly1305Sha256 => (32, 12),
    }
}

/// The two directions' record protection, from the key block (RFC 5246 §6.3).
pub(crate) fn key_block(
    suite: CipherSuite,
    master: &[u8],
    client_random: &[u8; 32],
    server_random: &[u8; 32],
) -> Result<(RecordCipher, RecordCipher), Error> {
    let (kl, il) = key_iv_len(suite);
    let mut seed = server_random.to_vec();
    seed.extend_from_slice(client_random);
    let kb = prf(
        suite.sha384(),
        master,
        b"key expansion",
        &seed,
        2 * (kl + il),
    );
    let get = |a: usize, b: usize| kb.get(a..b).ok_or(Error::Crypto("key block length"));
    let client = RecordCipher::new(suite, get(0, kl)?, get(2 * kl, 2 * kl + il)?)?;
    let server = RecordCipher::new(suite, get(kl, 2 * kl)?, get(2 * kl + il, 2 * (kl + il))?)?;
    Ok((client, server))
}

/// One direction's AEAD state.
pub(crate) struct RecordCipher {
    key: aead::LessSafeKey,
    iv: Vec<u8>,
    explicit_nonce: bool,
}

impl core::fmt::Debug for RecordCipher {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("RecordCipher")
    }
}

/// GCM explicit nonce length (RFC 5288 §3).
const EXPLICIT_NONCE_LEN: usize = 8;
/// AEAD tag length of every suite here.
pub(crate) const TAG_LEN: usize = 16;

fn aad(epoch: u16, seq: u64, ctype: u8, version: u16, len: usize) -> aead::Aad<[u8; 13]> {
    let mut a = [0u8; 13];
    let es = (u64::from(epoch) << 48) | (seq & 0xffff_ffff_ffff);
    a[..8].copy_from_slice(&es.to_be_bytes());
    a[8] = ctype;
    a[9..11].copy_from_slice(&version.to_be_bytes());
    a[11..13].copy_from_slice(&u16::try_from(len).unwrap_or(u16::MAX).to_be_bytes());
    aead::Aad::from(a)
}

impl RecordCipher {
    fn new(suite: CipherSuite, key: &[u8], iv: &[u8]) -> Result<Self, Error> {
        let alg = match suite {
            CipherSuite::EcdheEcdsaAes128GcmSha256 | CipherSuite::EcdheRsaAes128GcmSha256 => {
                &aead::AES_128_GCM
            }
            CipherSuite::EcdheEcdsaAes256GcmSha384 => &aead::AES_256_GCM,
            CipherSuite::EcdheEcdsaChacha20Poly1305Sha256 => &aead::CHACHA20_POLY1305,
        };
        let key = aead::UnboundKey::new(alg, key).map_err(|_| Error::Crypto("AEAD key"))?;
        Ok(Self {
            key: aead::LessSafeKey::new(key),
            iv: iv.to_vec(),
            explicit_nonce: !matches!(suite, CipherSuite::EcdheEcdsaChacha20Poly1305Sha256),
        })
    }

    /// Bytes added to a record's plaintext.
    pub(crate) fn overhead(&self) -> usize {
        TAG_LEN
            + if self.explicit_nonce {
                EXPLICIT_NONCE_LEN
            } else {
                0
            }
    }

    fn nonce(&self, epoch: u16, seq: u64) -> aead::Nonce {
        let es = ((u64::from(epoch) << 48) | (seq & 0xffff_ffff_ffff)).to_be_bytes();
        let mut n = [0u8; 12];
        if self.explicit_nonce {
            for (d, s) in n.iter_mut().zip(self.iv.iter().chain(es.iter())) {
                *d = *s;
            }
        } else {
            for (d, s) in n.iter_mut().zip(self.iv.iter()) {
                *d = *s;
            }
            for (d, s) in n.iter_mut().skip(4).zip(es.iter()) {
                *d ^= *s;
            }
        }
        aead::Nonce::assume_unique_for_key(n)
    }

    /// Seal a record's plaintext into its fragment.
    pub(crate) fn seal(
        &self,
        epoch: u16,
        seq: u64,
        ctype: u8,
        version: u16,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, Error> {
        let mut out = Vec::with_capacity(plaintext.len() + self.overhead());
        let es = ((u64::from(epoch) << 48) | (seq & 0xffff_ffff_ffff)).to_be_bytes();
        if self.explicit_nonce {
            out.extend_from_slice(&es);
        }
        let start = out.len();
        out.extend_from_slice(plaintext);
        let mut body = out.split_off(start);
        self.key
            .seal_in_place_append_tag(
                self.nonce(epoch, seq),
                aad(epoch, seq, ctype, version, plaintext.len()),
                &mut body,
            )
            .map_err(|_| Error::Crypto("AEAD seal"))?;
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// Open a record's fragment into plaintext.
    pub(crate) fn open(
        &self,
        epoch: u16,
        seq: u64,
        ctype: u8,
        version: u16,
        fragment: &[u8],
    ) -> Result<Vec<u8>, Error> {
        let skip = if self.explicit_nonce {
            EXPLICIT_NONCE_LEN
        } else {
            0
        };
        if fragment.len() < skip + TAG_LEN {
            return Err(Error::BadRecordMac);
        }
        let (explicit, rest) = fragment.split_at(skip);
        let mut body = rest.to_vec();
        let plain_len = body.len() - TAG_LEN;
        // GCM: the nonce is the fixed IV plus the explicit part the sender chose (RFC 5288 §3);
        // ChaCha20: derived from the sequence number (RFC 7905 §2).
        let nonce = if self.explicit_nonce {
            let mut n = [0u8; 12];
            for (d, s) in n.iter_mut().zip(self.iv.iter().chain(explicit.iter())) {
                *d = *s;
            }
            aead::Nonce::assume_unique_for_key(n)
        } else {
            self.nonce(epoch, seq)
        };
        let pt = self
            .key
            .open_in_place(nonce, aad(epoch, seq, ctype, version, plain_len), &mut body)
            .map_err(|_| Error::BadRecordMac)?;
        let n = pt.len();
        body.truncate(n);
        Ok(body)
    }
}

/// Our ephemeral ECDHE private key.
pub(crate) enum KeyShareSecret {
    Ring(agreement::EphemeralPrivateKey),
    Fake { group: NamedGroup, public: Vec<u8> },
}

/// Everything that needs randomness: one trait, two backends.
pub(crate) trait Backend: Send {
    /// Fill with random bytes (randoms, cookie secret).
    fn fill(&mut self, out: &mut [u8]);
    /// A fresh ECDHE key pair; returns our public value.
    fn key_share(&mut self, group: NamedGroup) -> Result<(KeyShareSecret, Vec<u8>), Error>;
    /// The ECDHE shared secret with the peer's public value.
    fn agree(&mut self, secret: KeyShareSecret, peer_public: &[u8]) -> Result<Vec<u8>, Error>;
    /// Sign `msg` with ecdsa_secp256r1_sha256 using our certificate's key.
    fn sign(&mut self, cert: &Certificate, msg: &[u8]) -> Result<Vec<u8>, Error>;
    /// Verify a peer signature.
    fn verify(
        &self,
        key: &PublicKey,
        scheme: SignatureScheme,
        msg: &[u8],
        sig: &[u8],
    ) -> Result<(), Error>;
}

/// A backend for `kind`, seeded by `seed` (or the OS).
pub(crate) fn backend(kind: CryptoBackend, seed: Option<u64>) -> Box<dyn Backend> {
    let rng = match seed {
        Some(s) => StdRng::seed_from_u64(s),
        None => StdRng::from_os_rng(),
    };
    match kind {
        CryptoBackend::Ring => Box::new(RingBackend {
            rng,
            sys: ring::rand::SystemRandom::new(),
        }),
        CryptoBackend::InsecureDeterministic => Box::new(DeterministicBackend { rng }),
    }
}

struct RingBackend {
    rng: StdRng,
    sys: ring::rand::SystemRandom,
}

fn check_peer_public(group: NamedGroup, p: &[u8]) -> Result<(), Error> {
    let ok = match group {
        NamedGroup::X25519 => p.len() == 32,
        NamedGroup::P256 => p.len() == 65 && p.first() == Some(&4),
    };
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidField {
            field: "ECDHE public key length",
            value: p.len() as u64,
        })
    }
}

impl Backend for RingBackend {
    fn fill(&mut self, out: &mut [u8]) {
        self.rng.fill_bytes(out);
    }

    fn key_share(&mut self, group: NamedGroup) -> Result<(KeyShareSecret, Vec<u8>), Error> {
        let alg = match group {
            NamedGroup::X25519 => &agreement::X25519,
            NamedGroup::P256 => &agreement::ECDH_P256,
        };
        let k = agreement::EphemeralPrivateKey::generate(alg, &self.sys)
            .map_err(|_| Error::Crypto("ECDHE key generation"))?;
        let public = k
            .compute_public_key()
            .map_err(|_| Error::Crypto("ECDHE public key"))?;
        let public = public.as_ref().to_vec();
        Ok((KeyShareSecret::Ring(k), public))
    }

    fn agree(&mut self, secret: KeyShareSecret, peer_public: &[u8]) -> Result<Vec<u8>, Error> {
        match secret {
            KeyShareSecret::Ring(k) => {
                let alg = k.algorithm();
                agreement::agree_ephemeral(
                    k,
                    &agreement::UnparsedPublicKey::new(alg, peer_public),
                    |s| s.to_vec(),
                )
                .map_err(|_| Error::Crypto("ECDHE agreement (bad peer public key)"))
            }
            KeyShareSecret::Fake { .. } => Err(Error::Crypto("key share from another backend")),
        }
    }

    fn sign(&mut self, cert: &Certificate, msg: &[u8]) -> Result<Vec<u8>, Error> {
        let kp = signature::EcdsaKeyPair::from_pkcs8(
            &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
            cert.pkcs8(),
            &self.sys,
        )
        .map_err(|_| Error::Config("certificate key is not a P-256 PKCS#8 key"))?;
        kp.sign(&self.sys, msg)
            .map(|s| s.as_ref().to_vec())
            .map_err(|_| Error::Crypto("ECDSA sign"))
    }

    fn verify(
        &self,
        key: &PublicKey,
        scheme: SignatureScheme,
        msg: &[u8],
        sig: &[u8],
    ) -> Result<(), Error> {
        let (alg, k): (&dyn signature::VerificationAlgorithm, &[u8]) = match (scheme, key) {
            (SignatureScheme::EcdsaP256Sha256, PublicKey::EcP256(k)) => {
                (&signature::ECDSA_P256_SHA256_ASN1, k)
            }
            (SignatureScheme::EcdsaP384Sha384, PublicKey::EcP384(k)) => {
                (&signature::ECDSA_P384_SHA384_ASN1, k)
            }
            (SignatureScheme::RsaPkcs1Sha256, PublicKey::Rsa(k)) => {
                (&signature::RSA_PKCS1_2048_8192_SHA256, k)
            }
            (SignatureScheme::RsaPssRsaeSha256, PublicKey::Rsa(k)) => {
                (&signature::RSA_PSS_2048_8192_SHA256, k)
            }
            (SignatureScheme::Ed25519, PublicKey::Ed25519(k)) => (&signature::ED25519, k),
            _ => {
                return Err(Error::BadSignature(
                    "signature scheme does not match the certificate key",
                ));
            }
        };
        signature::UnparsedPublicKey::new(alg, k)
            .verify(msg, sig)
            .map_err(|_| Error::BadSignature("peer"))
    }
}

struct DeterministicBackend {
    rng: StdRng,
}

fn fake_signature(key: &PublicKey, msg: &[u8]) -> Vec<u8> {
    let k = match key {
        PublicKey::EcP256(k) | PublicKey::EcP384(k) | PublicKey::Rsa(k) | PublicKey::Ed25519(k) => {
            k
        }
    };
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(b"sansrtc insecure deterministic signature");
    ctx.update(k);
    ctx.update(msg);
    ctx.finish().as_ref().to_vec()
}

impl Backend for DeterministicBackend {
    fn fill(&mut self, out: &mut [u8]) {
        self.rng.fill_bytes(out);
    }

    fn key_share(&mut self, group: NamedGroup) -> Result<(KeyShareSecret, Vec<u8>), Error> {
        let public = match group {
            NamedGroup::X25519 => {
                let mut p = vec![0u8; 32];
                self.rng.fill_bytes(&mut p);
                p
            }
            NamedGroup::P256 => {
                let mut p = vec![4u8; 65];
                self.rng.fill_bytes(p.get_mut(1..).unwrap_or_default());
                p
            }
        };
        Ok((
            KeyShareSecret::Fake {
                group,
                public: public.clone(),
            },
            public,
        ))
    }

    fn agree(&mut self, secret: KeyShareSecret, peer_public: &[u8]) -> Result<Vec<u8>, Error> {
        match secret {
            KeyShareSecret::Fake { group, public } => {
                check_peer_public(group, peer_public)?;
                let (a, b) = if public.as_slice() <= peer_public {
                    (public.as_slice(), peer_public)
                } else {
                    (peer_public, public.as_slice())
                };
                let mut ctx = digest::Context::new(&digest::SHA256);
                ctx.update(a);
                ctx.update(b);
                Ok(ctx.finish().as_ref().to_vec())
            }
            KeyShareSecret::Ring(_) => Err(Error::Crypto("key share from another backend")),
        }
    }

    fn sign(&mut self, cert: &Certificate, msg: &[u8]) -> Result<Vec<u8>, Error> {
        Ok(fake_signature(&parse_public_key(cert.der())?, msg))
    }

    fn verify(
        &self,
        key: &PublicKey,
        _scheme: SignatureScheme,
        msg: &[u8],
        sig: &[u8],
    ) -> Result<(), Error> {
        if fake_signature(key, msg) == sig {
            Ok(())
        } else {
            Err(Error::BadSignature("peer"))
        }
    }
}

//! Wire formats: DTLS records (RFC 6347 §4.1), handshake messages (RFC 6347 §4.2.2,
//! RFC 5246 §7.4) and hello extensions.
//!
//! Decoding never panics: every read goes through [`Reader`], which checks lengths.

pub mod handshake;
pub mod record;

use crate::Error;

/// A bounds-checked cursor over borrowed bytes.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    what: &'static str,
}

impl<'a> Reader<'a> {
    /// A reader over `buf`; `what` names the structure in errors.
    #[must_use]
    pub fn new(buf: &'a [u8], what: &'static str) -> Self {
        Self { buf, what }
    }

    /// Bytes left.
    #[must_use]
    pub fn remaining(&self) -> usize {
        self.buf.len()
    }

    /// Whether everything was read.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The unread bytes.
    #[must_use]
    pub fn rest(&self) -> &'a [u8] {
        self.buf
    }

    /// Take `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        if self.buf.len() < n {
            return Err(Error::Truncated {
                what: self.what,
                need: n,
                have: self.buf.len(),
            });
        }
        let (a, b) = self.buf.split_at(n);
        self.buf = b;
        Ok(a)
    }

    /// One byte.
    pub fn u8(&mut self) -> Result<u8, Error> {
        let b = self.take(1)?;
        Ok(b.first().copied().unwrap_or(0))
    }

    /// Big-endian u16.
    pub fn u16(&mut self) -> Result<u16, Error> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([
            b.first().copied().unwrap_or(0),
            b.get(1).copied().unwrap_or(0),
        ]))
    }

    /// Big-endian u24.
    pub fn u24(&mut self) -> Result<u32, Error> {
        let b = self.take(3)?;
        Ok(b.iter().fold(0u32, |acc, &x| (acc << 8) | u32::from(x)))
    }

    /// Big-endian u48.
    pub fn u48(&mut self) -> Result<u64, Error> {
        let b = self.take(6)?;
        Ok(b.iter().fold(0u64, |acc, &x| (acc << 8) | u64::from(x)))
    }

    /// A vector with a one-byte length prefix.
    pub fn vec8(&mut self) -> Result<&'a [u8], Error> {
        let n = self.u8()?;
        self.take(usize::from(n))
    }

    /// A vector with a two-byte length prefix.
    pub fn vec16(&mut self) -> Result<&'a [u8], Error> {
        let n = self.u16()?;
        self.take(usize::from(n))
    }

    /// A vector with a three-byte length prefix.
    pub fn vec24(&mut self) -> Result<&'a [u8], Error> {
        let n = self.u24()?;
        self.take(n as usize)
    }

    /// Fails if bytes are left.
    pub fn finish(&self) -> Result<(), Error> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(Error::TrailingBytes {
                what: self.what,
                extra: self.buf.len(),
            })
        }
    }
}

/// Append helpers for encoding into a `Vec<u8>`.
pub(crate) trait Put {
    fn put_u8(&mut self, v: u8);
    fn put_u16(&mut self, v: u16);
    fn put_u24(&mut self, v: u32);
    fn put_u48(&mut self, v: u64);
    fn put_vec8(&mut self, v: &[u8]);
    fn put_vec16(&mut self, v: &[u8]);
    fn put_vec24(&mut self, v: &[u8]);
}

impl Put for Vec<u8> {
    fn put_u8(&mut self, v: u8) {
        self.push(v);
    }
    fn put_u16(&mut self, v: u16) {
        self.extend_from_slice(&v.to_be_bytes());
    }
    fn put_u24(&mut self, v: u32) {
        self.extend_from_slice(&v.to_be_bytes()[1..]);
    }
    fn put_u48(&mut self, v: u64) {
        self.extend_from_slice(&v.to_be_bytes()[2..]);
    }
    // Lengths are bounded by the callers (our own messages); truncation is impossible in practice
    // but is kept safe by saturating the prefix.
    fn put_vec8(&mut self, v: &[u8]) {
        self.put_u8(u8::try_from(v.len()).unwrap_or(u8::MAX));
        self.extend_from_slice(v);
    }
    fn put_vec16(&mut self, v: &[u8]) {
        self.put_u16(u16::try_from(v.len()).unwrap_or(u16::MAX));
        self.extend_from_slice(v);
    }
    fn put_vec24(&mut self, v: &[u8]) {
        self.put_u24(u32::try_from(v.len()).unwrap_or(0x00ff_ffff));
        self.extend_from_slice(v);
    }
}

//! Bounds-checked big-endian readers and writers: they never panic; a read past the end
//! yields `None` or zero, a write past the end is reported.

use crate::error::{Error, Result};

#[inline]
pub(crate) fn u16_at(b: &[u8], off: usize) -> Option<u16> {
    let s = b.get(off..off.checked_add(2)?)?;
    Some(u16::from_be_bytes([*s.first()?, *s.get(1)?]))
}

#[inline]
pub(crate) fn u24_at(b: &[u8], off: usize) -> Option<u32> {
    let s = b.get(off..off.checked_add(3)?)?;
    Some(u32::from_be_bytes([0, *s.first()?, *s.get(1)?, *s.get(2)?]))
}

#[inline]
pub(crate) fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    let s: [u8; 4] = b.get(off..off.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_be_bytes(s))
}

#[inline]
pub(crate) fn u64_at(b: &[u8], off: usize) -> Option<u64> {
    let s: [u8; 8] = b.get(off..off.checked_add(8)?)?.try_into().ok()?;
    Some(u64::from_be_bytes(s))
}

/// A cursor over input that reports truncation with the name of the field being read.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }
    pub(crate) fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.buf.get(self.pos..).unwrap_or(&[])
    }
    pub(crate) fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).ok_or(Error::Truncated {
            what,
            need: n,
            have: self.remaining(),
        })?;
        let s = self.buf.get(self.pos..end).ok_or(Error::Truncated {
            what,
            need: n,
            have: self.remaining(),
        })?;
        self.pos = end;
        Ok(s)
    }
    pub(crate) fn u8(&mut self, what: &'static str) -> Result<u8> {
        Ok(self.take(1, what)?.first().copied().unwrap_or(0))
    }
    pub(crate) fn u16(&mut self, what: &'static str) -> Result<u16> {
        let s = self.take(2, what)?;
        Ok(u16_at(s, 0).unwrap_or(0))
    }
    pub(crate) fn u24(&mut self, what: &'static str) -> Result<u32> {
        let s = self.take(3, what)?;
        Ok(u24_at(s, 0).unwrap_or(0))
    }
    pub(crate) fn u32(&mut self, what: &'static str) -> Result<u32> {
        let s = self.take(4, what)?;
        Ok(u32_at(s, 0).unwrap_or(0))
    }
    pub(crate) fn u64(&mut self, what: &'static str) -> Result<u64> {
        let s = self.take(8, what)?;
        Ok(u64_at(s, 0).unwrap_or(0))
    }
}

/// A cursor over an output buffer; every write is bounds-checked.
pub(crate) struct Writer<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl<'a> Writer<'a> {
    pub(crate) fn new(buf: &'a mut [u8]) -> Self {
        Writer { buf, pos: 0 }
    }
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }
    pub(crate) fn bytes(&mut self, data: &[u8]) -> Result<()> {
        let have = self.buf.len().saturating_sub(self.pos);
        let end = self.pos.saturating_add(data.len());
        let dst = self
            .buf
            .get_mut(self.pos..end)
            .ok_or(Error::BufferTooSmall {
                need: end,
                have: self.pos + have,
            })?;
        dst.copy_from_slice(data);
        self.pos = end;
        Ok(())
    }
    pub(crate) fn zeros(&mut self, n: usize) -> Result<()> {
        let end = self.pos.saturating_add(n);
        let have = self.buf.len();
        let dst = self
            .buf
            .get_mut(self.pos..end)
            .ok_or(Error::BufferTooSmall { need: end, have })?;
        dst.fill(0);
        self.pos = end;
        Ok(())
    }
    pub(crate) fn u8(&mut self, v: u8) -> Result<()> {
        self.bytes(&[v])
    }
    pub(crate) fn u16(&mut self, v: u16) -> Result<()> {
        self.bytes(&v.to_be_bytes())
    }
    pub(crate) fn u24(&mut self, v: u32) -> Result<()> {
        let b = v.to_be_bytes();
        self.bytes(&[b[1], b[2], b[3]])
    }
    pub(crate) fn u32(&mut self, v: u32) -> Result<()> {
        self.bytes(&v.to_be_bytes())
    }
    pub(crate) fn u64(&mut self, v: u64) -> Result<()> {
        self.bytes(&v.to_be_bytes())
    }
}

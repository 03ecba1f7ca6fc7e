//! Handshake message reassembly (RFC 6347 §4.2.3) with caps on message size, total
//! buffered bytes and how far ahead of the next expected message_seq we buffer.

use std::collections::BTreeMap;

use crate::Error;
use crate::wire::handshake::{Fragment, HandshakeMessage, HandshakeType};

#[derive(Debug)]
struct Partial {
    msg_type: HandshakeType,
    epoch: u16,
    body: Vec<u8>,
    /// Received byte ranges, sorted and merged, as `[start, end)`.
    have: Vec<(usize, usize)>,
}

impl Partial {
    fn complete(&self) -> bool {
        match self.have.as_slice() {
            [] => self.body.is_empty(),
            [(0, end)] => *end == self.body.len(),
            _ => false,
        }
    }
}

/// Buffers fragments until whole messages can be handed out in message_seq order.
#[derive(Debug)]
pub(crate) struct Reassembler {
    msgs: BTreeMap<u16, Partial>,
    bytes: usize,
    max_message: usize,
    max_total: usize,
    max_ahead: u16,
}

impl Reassembler {
    pub(crate) fn new(max_message: usize, max_total: usize, max_ahead: u16) -> Self {
        Self {
            msgs: BTreeMap::new(),
            bytes: 0,
            max_message,
            max_total,
            max_ahead,
        }
    }

    /// Drop everything.
    pub(crate) fn clear(&mut self) {
        self.msgs.clear();
        self.bytes = 0;
    }

    /// Add one fragment of a message with `message_seq >= next_seq` received in `epoch`.
    pub(crate) fn insert(
        &mut self,
        f: &Fragment<'_>,
        epoch: u16,
        next_seq: u16,
    ) -> Result<(), Error> {
        if f.message_seq < next_seq {
            return Ok(());
        }
        if f.message_seq - next_seq >= self.max_ahead {
            return Err(Error::BadFragment("message_seq too far ahead"));
        }
        let length = f.length as usize;
        if length > self.max_message {
            return Err(Error::MessageTooLarge {
                len: length,
                cap: self.max_message,
            });
        }
        let start = f.offset as usize;
        let end = start
            .checked_add(f.body.len())
            .ok_or(Error::BadFragment("fragment offset overflow"))?;
        if end > length {
            return Err(Error::BadFragment(
                "fragment extends past the message length",
            ));
        }
        if f.body.is_empty() && length > 0 {
            return Err(Error::BadFragment("zero-length fragment"));
        }
        let entry = match self.msgs.get_mut(&f.message_seq) {
            Some(p) => {
                if p.msg_type != f.msg_type || p.body.len() != length || p.epoch != epoch {
                    return Err(Error::BadFragment(
                        "fragment disagrees with earlier fragments of its message",
                    ));
                }
                p
            }
            None => {
                if self.bytes.saturating_add(length) > self.max_total {
                    return Err(Error::ReassemblyFull);
                }
                self.bytes += length;
                self.msgs.entry(f.message_seq).or_insert(Partial {
                    msg_type: f.msg_type,
                    epoch,
                    body: vec![0; length],
                    have: Vec::new(),
                })
            }
        };
        // Overlaps are legal (a retransmission may be fragmented differently) but must carry
        // the same bytes.
        for &(a, b) in &entry.have {
            let lo = a.max(start);
            let hi = b.min(end);
            if lo < hi {
                let old = entry.body.get(lo..hi);
                let new = f.body.get(lo - start..hi - start);
                if old != new {
                    return Err(Error::BadFragment(
                        "overlapping fragment with different bytes",
                    ));
                }
            }
        }
        if let Some(dst) = entry.body.get_mut(start..end) {
            dst.copy_from_slice(f.body);
        }
        entry.have.push((start, end));
        entry.have.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::with_capacity(entry.have.len());
        for &(a, b) in &entry.have {
            match merged.last_mut() {
                Some(last) if a <= last.1 => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        entry.have = merged;
        Ok(())
    }

    /// The epoch and type of message `seq` if it is complete.
    pub(crate) fn peek_complete(&self, seq: u16) -> Option<(HandshakeType, u16)> {
        self.msgs
            .get(&seq)
            .filter(|p| p.complete())
            .map(|p| (p.msg_type, p.epoch))
    }

    /// Take message `seq` if complete, with the epoch it arrived in.
    pub(crate) fn take(&mut self, seq: u16) -> Option<(HandshakeMessage, u16)> {
        if !self.msgs.get(&seq).is_some_and(Partial::complete) {
            return None;
        }
        let p = self.msgs.remove(&seq)?;
        self.bytes = self.bytes.saturating_sub(p.body.len());
        Some((
            HandshakeMessage {
                msg_type: p.msg_type,
                message_seq: seq,
                body: p.body,
            },
            p.epoch,
        ))
    }
}

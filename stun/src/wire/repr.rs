//! An owned, high-level representation of a whole message (smoltcp's `Repr` pattern).

use super::attribute::Attribute;
use super::builder::MessageBuilder;
use super::message::Message;
use super::{HEADER_LEN, MessageType, TransactionId, padded};
use crate::Error;

/// A message as a list of typed attributes, for code that is not on a hot path (tests,
/// fuzzing, tools). `parse` followed by `emit` reproduces the message up to padding bytes.
///
/// Attributes whose type is known but whose value does not decode are kept as
/// [`Attribute::Other`], so nothing is lost.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageRepr<'a> {
    /// Class and method.
    pub message_type: MessageType,
    /// The transaction ID.
    pub transaction_id: TransactionId,
    /// Attributes in wire order.
    pub attributes: Vec<Attribute<'a>>,
}

impl<'a> MessageRepr<'a> {
    /// Parses a whole message (see [`Message::new_checked_structure`]; FINGERPRINT and
    /// integrity values are kept, not checked).
    pub fn parse(bytes: &'a [u8]) -> Result<Self, Error> {
        let m = Message::new_checked_structure(bytes)?;
        let transaction_id = m.transaction_id();
        let attributes = super::message::AttributeIter::over(bytes)
            .map(|a| {
                a.decode(&transaction_id).unwrap_or(Attribute::Other {
                    attr_type: a.attr_type,
                    value: a.value,
                })
            })
            .collect();
        Ok(Self {
            message_type: m.message_type(),
            transaction_id,
            attributes,
        })
    }

    /// Bytes [`emit`](Self::emit) writes.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN
            + self
                .attributes
                .iter()
                .map(|a| 4 + padded(a.value_len()))
                .sum::<usize>()
    }

    /// Writes the message into `buf` with zero padding; returns the length written.
    /// Integrity and FINGERPRINT attributes are written with the values they hold.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
        let mut b = MessageBuilder::new(buf, self.message_type, self.transaction_id)?;
        for a in &self.attributes {
            b.add(a)?;
        }
        Ok(b.finish())
    }
}

//! STUN wire format (RFC 8489 sections 5 and 14): header types, the zero-copy [`Message`]
//! view, typed [`Attribute`]s, the [`MessageBuilder`] encoder and the owned [`MessageRepr`].

mod attribute;
mod builder;
mod message;
mod repr;

pub use attribute::{
    AddressFamily, Attribute, ErrorCode, PasswordAlgorithmParams, PasswordAlgorithmsIter,
    UnknownAttributesIter, attr, attr_name, is_comprehension_required, is_known,
};
pub use builder::MessageBuilder;
pub(crate) use message::check_header_prefix;
pub use message::{AttributeIter, Message, RawAttribute, UnknownRequiredIter};
pub use repr::MessageRepr;

use crate::Error;
use core::fmt;

/// The fixed magic cookie of every RFC 5389/8489 message (RFC 8489 section 5).
pub const MAGIC_COOKIE: u32 = 0x2112_A442;
/// Length of the STUN header (RFC 8489 section 5).
pub const HEADER_LEN: usize = 20;
/// Largest possible STUN message: the header plus a 16-bit length.
pub const MAX_MESSAGE_LEN: usize = HEADER_LEN + u16::MAX as usize;

/// Message class (RFC 8489 section 5): the C1/C0 bits of the message type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Class {
    /// Request (0b00): answered by a response.
    Request,
    /// Indication (0b01): never answered.
    Indication,
    /// Success response (0b10).
    SuccessResponse,
    /// Error response (0b11), carries ERROR-CODE.
    ErrorResponse,
}

impl Class {
    const fn bits(self) -> u16 {
        match self {
            Self::Request => 0,
            Self::Indication => 1,
            Self::SuccessResponse => 2,
            Self::ErrorResponse => 3,
        }
    }

    /// True for success and error responses.
    pub const fn is_response(self) -> bool {
        matches!(self, Self::SuccessResponse | Self::ErrorResponse)
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Request => "request",
            Self::Indication => "indication",
            Self::SuccessResponse => "success response",
            Self::ErrorResponse => "error response",
        })
    }
}

/// A 12-bit STUN method (RFC 8489 section 18.2; TURN's methods from RFC 8656 section 17).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Method(u16);

impl Method {
    /// Binding (RFC 8489).
    pub const BINDING: Self = Self(0x001);
    /// Allocate (RFC 8656).
    pub const ALLOCATE: Self = Self(0x003);
    /// Refresh (RFC 8656).
    pub const REFRESH: Self = Self(0x004);
    /// Send (RFC 8656).
    pub const SEND: Self = Self(0x006);
    /// Data (RFC 8656).
    pub const DATA: Self = Self(0x007);
    /// CreatePermission (RFC 8656).
    pub const CREATE_PERMISSION: Self = Self(0x008);
    /// ChannelBind (RFC 8656).
    pub const CHANNEL_BIND: Self = Self(0x009);

    /// A method from its 12-bit number; `None` if it does not fit in 12 bits.
    pub const fn new(value: u16) -> Option<Self> {
        if value <= 0x0FFF {
            Some(Self(value))
        } else {
            None
        }
    }

    /// The 12-bit method number.
    pub const fn value(self) -> u16 {
        self.0
    }

    /// The registered name, or `None`.
    pub const fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0x001 => "Binding",
            0x003 => "Allocate",
            0x004 => "Refresh",
            0x006 => "Send",
            0x007 => "Data",
            0x008 => "CreatePermission",
            0x009 => "ChannelBind",
            _ => return None,
        })
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "method {:#05x}", self.0),
        }
    }
}

/// Message type: class plus method, packed as in RFC 8489 section 5, figure 3.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MessageType {
    /// The class.
    pub class: Class,
    /// The method.
    pub method: Method,
}

impl MessageType {
    /// Binding request.
    pub const BINDING_REQUEST: Self = Self::new(Class::Request, Method::BINDING);
    /// Binding success response.
    pub const BINDING_SUCCESS: Self = Self::new(Class::SuccessResponse, Method::BINDING);
    /// Binding error response.
    pub const BINDING_ERROR: Self = Self::new(Class::ErrorResponse, Method::BINDING);
    /// Binding indication (ICE keepalives, RFC 8445 section 11).
    pub const BINDING_INDICATION: Self = Self::new(Class::Indication, Method::BINDING);

    /// A type from its parts.
    pub const fn new(class: Class, method: Method) -> Self {
        Self { class, method }
    }

    /// Decodes the 16-bit field; fails if the top two bits are set.
    pub const fn from_u16(value: u16) -> Result<Self, Error> {
        if value & 0xC000 != 0 {
            return Err(Error::InvalidMessageType { value });
        }
        let class = match ((value >> 7) & 0b10) | ((value >> 4) & 0b01) {
            0 => Class::Request,
            1 => Class::Indication,
            2 => Class::SuccessResponse,
            _ => Class::ErrorResponse,
        };
        let method = (value & 0x000F) | ((value >> 1) & 0x0070) | ((value >> 2) & 0x0F80);
        Ok(Self {
            class,
            method: Method(method),
        })
    }

    /// Encodes to the 16-bit field.
    pub const fn to_u16(self) -> u16 {
        let m = self.method.0;
        let c = self.class.bits();
        (m & 0x000F) | ((m & 0x0070) << 1) | ((m & 0x0F80) << 2) | ((c & 1) << 4) | ((c & 2) << 7)
    }
}

impl fmt::Display for MessageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.class)
    }
}

/// The 96-bit transaction ID (RFC 8489 section 5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct TransactionId(pub [u8; 12]);

impl TransactionId {
    /// A fresh random ID. Use a CSPRNG in production (RFC 8489 section 5 requires it to be
    /// uniformly random); pass a seeded RNG in tests.
    pub fn random<R: rand::Rng + ?Sized>(rng: &mut R) -> Self {
        let mut id = [0u8; 12];
        rng.fill_bytes(&mut id);
        Self(id)
    }

    /// The bytes.
    pub const fn as_bytes(&self) -> &[u8; 12] {
        &self.0
    }
}

impl fmt::Display for TransactionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// Reads a big-endian u16 at `at`; `None` when out of bounds.
#[inline]
pub(crate) fn be16(buf: &[u8], at: usize) -> Option<u16> {
    match buf.get(at..at.checked_add(2)?) {
        Some(&[a, b]) => Some(u16::from_be_bytes([a, b])),
        _ => None,
    }
}

/// Reads a big-endian u32 at `at`; `None` when out of bounds.
#[inline]
pub(crate) fn be32(buf: &[u8], at: usize) -> Option<u32> {
    match buf.get(at..at.checked_add(4)?) {
        Some(&[a, b, c, d]) => Some(u32::from_be_bytes([a, b, c, d])),
        _ => None,
    }
}

/// Rounds up to the next multiple of 4 (attribute padding, RFC 8489 section 14).
#[inline]
pub(crate) const fn padded(len: usize) -> usize {
    (len + 3) & !3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_type_packing() {
        assert_eq!(MessageType::BINDING_REQUEST.to_u16(), 0x0001);
        assert_eq!(MessageType::BINDING_SUCCESS.to_u16(), 0x0101);
        assert_eq!(MessageType::BINDING_ERROR.to_u16(), 0x0111);
        assert_eq!(MessageType::BINDING_INDICATION.to_u16(), 0x0011);
        // Allocate error response (RFC 8656): 0x0113
        assert_eq!(
            MessageType::new(Class::ErrorResponse, Method::ALLOCATE).to_u16(),
            0x0113
        );
        for v in 0..=0x3FFFu16 {
            let t = MessageType::from_u16(v).unwrap();
            assert_eq!(t.to_u16(), v);
        }
        assert!(MessageType::from_u16(0x4001).is_err());
        assert!(MessageType::from_u16(0x8001).is_err());
        assert_eq!(Method::new(0x1000), None);
    }
}

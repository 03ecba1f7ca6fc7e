//! Wire formats: RTP packets and header extensions, RTCP packets.

pub mod ext;
pub mod rtcp;
pub mod rtp;
pub(crate) mod util;

//! Entry points for the cargo-fuzz targets (and the corpus replay test). Each asserts an
//! oracle where one exists.

use crate::wire::rtcp::{RtcpPacket, parse_compound};
use crate::wire::rtp::{Extension, HeaderExtension, RtpPacket, RtpRepr};

/// `rtp_parse`: parse; if valid, every getter works and re-emitting the parsed fields yields
/// a packet that parses to the same fields.
pub fn rtp_parse(data: &[u8]) {
    // The lazy view accepts everything the full one does, and agrees with its own walk.
    if let Ok(lazy) = RtpPacket::new_checked_lazy(data) {
        for id in 0..=255u8 {
            let first = lazy.extensions().find(|x| x.id == id).map(|x| x.data);
            assert_eq!(lazy.extension(id), first);
        }
        let _ = (lazy.payload(), lazy.csrcs().count(), lazy.padding_len());
    }
    let Ok(pkt) = RtpPacket::new_checked(data) else {
        return;
    };
    let lazy = RtpPacket::new_checked_lazy(data);
    assert!(
        lazy.is_ok(),
        "new_checked_lazy rejects what new_checked accepts"
    );
    if let Ok(lazy) = lazy {
        assert_eq!(
            lazy.extensions().collect::<Vec<_>>(),
            pkt.extensions().collect::<Vec<_>>()
        );
        assert_eq!(lazy.payload(), pkt.payload());
    }
    let csrcs: Vec<u32> = pkt.csrcs().collect();
    assert_eq!(csrcs.len(), usize::from(pkt.csrc_count()));
    let exts: Vec<Extension<'_>> = pkt.extensions().collect();
    for e in &exts {
        // Lookup by id finds the first element with that id.
        let first = exts.iter().find(|x| x.id == e.id).map(|x| x.data);
        assert_eq!(pkt.extension(e.id), first);
    }
    assert!(pkt.header_len() + pkt.payload().len() + pkt.padding_len() == data.len());
    let extension = match pkt.extension_form() {
        None => HeaderExtension::None,
        Some(crate::ExtensionForm::Other(profile)) => HeaderExtension::Raw {
            profile,
            data: pkt.extension_data().unwrap_or(&[]),
        },
        Some(form) => HeaderExtension::Form(form, &exts),
    };
    let repr = RtpRepr {
        marker: pkt.marker(),
        payload_type: pkt.payload_type(),
        sequence_number: pkt.sequence_number(),
        timestamp: pkt.timestamp(),
        ssrc: pkt.ssrc(),
        csrcs: &csrcs,
        extension,
        payload: pkt.payload(),
        padding: pkt.padding_len().min(255) as u8,
    };
    // One-byte blocks may hold elements after an id-15 terminator, and padding above 255
    // cannot be written; the re-emit oracle applies to everything else.
    if let Ok(out) = repr.to_vec() {
        let back = RtpPacket::new_checked(&out[..]);
        assert!(back.is_ok(), "re-emitted packet does not parse");
        if let Ok(back) = back {
            assert_eq!(back.sequence_number(), pkt.sequence_number());
            assert_eq!(back.ssrc(), pkt.ssrc());
            assert_eq!(back.payload(), pkt.payload());
            assert_eq!(back.extensions().collect::<Vec<_>>(), exts);
        }
    }
}

/// `rtcp_parse`: parse every packet of the compound; every packet that parses re-emits and
/// parses back to the same value.
pub fn rtcp_parse(data: &[u8]) {
    for p in parse_compound(data).flatten() {
        let Ok(bytes) = p.to_vec() else {
            continue;
        };
        let back = RtcpPacket::parse_bytes(&bytes);
        assert_eq!(back.as_ref().ok(), Some(&p), "RTCP re-emit mismatch");
    }
}

/// `rtp_depacketize`: the first octet picks a codec; the rest is a sequence of
/// length-prefixed payloads fed to that codec's depacketizer and to a frame assembler.
pub fn rtp_depacketize(data: &[u8]) {
    crate::codec::fuzz_depacketize(data);
}

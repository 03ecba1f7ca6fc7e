//! Wire-format tests: CRC32c vectors (RFC 3720 B.4, catalogue, real SCTP packets) and
//! property round-trips.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use proptest::prelude::*;
use sansrtc_sctp::wire::{self, DataChunk, ForwardTsn, Init, Packet, Sack, SkipEntry};

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn vectors() -> serde_json::Value {
    serde_json::from_str(include_str!("data/crc32c_sctp.json")).unwrap()
}

#[test]
fn crc32c_check_values() {
    let v = vectors();
    let cv = v["check_values"].as_array().unwrap();
    assert!(cv.len() >= 5);
    for c in cv {
        let input = hex(c["input"].as_str().unwrap());
        let want = u32::from_str_radix(
            c["crc32c_value"].as_str().unwrap().trim_start_matches("0x"),
            16,
        )
        .unwrap();
        assert_eq!(wire::crc32c(&input), want, "{}", c["id"]);
        assert_eq!(
            hex(c["crc_bytes_as_transmitted"].as_str().unwrap()),
            want.to_le_bytes()
        );
    }
}

#[test]
fn sctp_packets_checksum_and_parse() {
    let v = vectors();
    let pkts = v["sctp_packets"].as_array().unwrap();
    assert!(pkts.len() >= 5);
    for p in pkts {
        let bytes = hex(p["packet"].as_str().unwrap());
        let want = u32::from_str_radix(
            p["crc32c_value"].as_str().unwrap().trim_start_matches("0x"),
            16,
        )
        .unwrap();
        assert_eq!(wire::packet_checksum(&bytes), want, "{}", p["id"]);
        let pk = Packet::parse(&bytes).unwrap();
        pk.verify_checksum(&bytes, false).unwrap();
        let mut bad = bytes.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert!(pk.verify_checksum(&bad, false).is_err() || bytes.len() == 12);
        // Re-finishing the packet reproduces the checksum bytes on the wire.
        let mut again = bytes.clone();
        wire::finish_packet(&mut again, false);
        assert_eq!(again, bytes);
        for c in pk.chunks() {
            let c = c.unwrap();
            if c.typ == wire::ct::INIT {
                let init = Init::parse(c.value).unwrap();
                assert_ne!(init.init_tag, 0);
            }
        }
    }
    // The browser INIT advertises FORWARD-TSN and RE-CONFIG (libwebrtc dcsctp capture).
    let b = hex(pkts[0]["packet"].as_str().unwrap());
    let pk = Packet::parse(&b).unwrap();
    let c = pk.chunks().next().unwrap().unwrap();
    let init = Init::parse(c.value).unwrap();
    assert!(init.forward_tsn && init.reconfig, "{init:?}");
}

fn arb_data() -> impl Strategy<Value = (bool, u32, u16, u32, u32, u32, u8, Vec<u8>)> {
    (
        any::<bool>(),
        any::<u32>(),
        any::<u16>(),
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
        0u8..16,
        proptest::collection::vec(any::<u8>(), 1..300),
    )
}

proptest! {
    #[test]
    fn data_chunk_round_trip((idata, tsn, stream, mid, fsn, ppid, flags, payload) in arb_data()) {
        let begin = flags & 2 != 0;
        let d = DataChunk {
            idata, tsn, stream,
            mid: if idata { mid } else { mid & 0xffff },
            fsn: if idata && !begin { fsn } else { 0 },
            ppid: if idata && !begin { 0 } else { ppid },
            unordered: flags & 4 != 0, begin, end: flags & 1 != 0, immediate: flags & 8 != 0,
            payload: &payload,
        };
        let mut out = Vec::new();
        d.emit(&mut out);
        prop_assert_eq!(out.len(), d.buffer_len());
        prop_assert_eq!(out.len() % 4, 0);
        let p = Packet { header: wire::CommonHeader { src_port: 1, dst_port: 2, vtag: 3, checksum: 0 }, chunk_bytes: &out };
        let raw = p.chunks().next().unwrap().unwrap();
        prop_assert_eq!(DataChunk::parse(&raw).unwrap(), d);
    }

    #[test]
    fn sack_round_trip(cum in any::<u32>(), rwnd in any::<u32>(), gaps in proptest::collection::vec((any::<u16>(), any::<u16>()), 0..20), dups in proptest::collection::vec(any::<u32>(), 0..10)) {
        let mut out = Vec::new();
        wire::emit_sack(&mut out, cum, rwnd, &gaps, &dups);
        let s = Sack::parse(&out[4..]).unwrap();
        prop_assert_eq!(s.cum_tsn, cum);
        prop_assert_eq!(s.a_rwnd, rwnd);
        prop_assert_eq!(s.gap_blocks().collect::<Vec<_>>(), gaps);
        prop_assert_eq!(s.dup_tsns().collect::<Vec<_>>(), dups);
    }

    #[test]
    fn init_round_trip(tag in 1u32.., rwnd in any::<u32>(), os in 1u16.., mis in 1u16.., tsn in any::<u32>(), f in any::<u8>(), zc in any::<Option<u32>>(), cookie in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..80))) {
        let i = Init { init_tag: tag, a_rwnd: rwnd, os, mis, initial_tsn: tsn, forward_tsn: f & 1 != 0, reconfig: f & 2 != 0, idata: f & 4 != 0, zero_checksum: zc, cookie: cookie.as_deref() };
        let mut out = Vec::new();
        i.emit_value(&mut out);
        prop_assert_eq!(Init::parse(&out).unwrap(), i);
    }

    #[test]
    fn forward_tsn_round_trip(idata in any::<bool>(), cum in any::<u32>(), e in proptest::collection::vec((any::<u16>(), any::<bool>(), any::<u32>()), 0..20)) {
        let entries: Vec<SkipEntry> = e.into_iter().map(|(s, u, m)| SkipEntry { stream: s, unordered: u && idata, mid: if idata { m } else { m & 0xffff } }).collect();
        let mut out = Vec::new();
        wire::emit_forward_tsn(&mut out, idata, cum, &entries);
        let f = ForwardTsn::parse(&out[4..], idata).unwrap();
        prop_assert_eq!(f.new_cum_tsn, cum);
        prop_assert_eq!(f.entries().collect::<Vec<_>>(), entries);
    }

    #[test]
    fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        sansrtc_sctp_fuzz_like(&bytes);
    }
}

fn sansrtc_sctp_fuzz_like(b: &[u8]) {
    if let Ok(p) = Packet::parse(b) {
        for c in p.chunks().flatten() {
            let _ = DataChunk::parse(&c);
            let _ = Sack::parse(c.value);
            let _ = Init::parse(c.value);
            let _ = ForwardTsn::parse(c.value, c.typ == 194);
            for _ in wire::reconfig_params(c.value) {}
        }
    }
}

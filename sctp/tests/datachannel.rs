//! DCEP (RFC 8832) and the data channel API over an in-memory pair.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Instant;

use bytes::Bytes;
use sansrtc_sctp::datachannel::{
    ChannelConfig, DataChannelEvent as E, DataChannels, DtlsRole, OpenMessage, Reliability, ppid,
};
use sansrtc_sctp::{Config, SendOptions};

struct Dc {
    a: DataChannels,
    b: DataChannels,
    now: Instant,
    ev: [Vec<E>; 2],
}

impl Dc {
    fn new() -> Self {
        let now = Instant::now();
        let c = |s| Config {
            seed: Some(s),
            ..Config::default()
        };
        let mut d = Dc {
            a: DataChannels::new(c(1), DtlsRole::Client, now),
            b: DataChannels::new(c(2), DtlsRole::Server, now),
            now,
            ev: [Vec::new(), Vec::new()],
        };
        d.a.connect(now).unwrap();
        d.b.connect(now).unwrap();
        d.run();
        assert!(d.ev[0].contains(&E::Connected) && d.ev[1].contains(&E::Connected));
        d.ev = [Vec::new(), Vec::new()];
        d
    }
    fn run(&mut self) {
        for _ in 0..1000 {
            let mut moved = false;
            while let Some(t) = self.a.poll_transmit() {
                self.b.handle_receive(self.now, &t.payload);
                moved = true;
            }
            while let Some(t) = self.b.poll_transmit() {
                self.a.handle_receive(self.now, &t.payload);
                moved = true;
            }
            while let Some(e) = self.a.poll_event() {
                self.ev[0].push(e);
            }
            while let Some(e) = self.b.poll_event() {
                self.ev[1].push(e);
            }
            if !moved {
                // Let delayed SACK and reconfig timers run.
                match [self.a.poll_timeout(), self.b.poll_timeout()]
                    .into_iter()
                    .flatten()
                    .min()
                {
                    Some(t) if t <= self.now + std::time::Duration::from_millis(300) => {
                        self.now = t.max(self.now);
                        self.a.handle_timeout(self.now);
                        self.b.handle_timeout(self.now);
                    }
                    _ => return,
                }
            }
        }
    }
}

#[test]
fn open_ack_and_messages_of_every_kind() {
    let mut d = Dc::new();
    let cfg = ChannelConfig {
        label: "chat".into(),
        protocol: "proto".into(),
        ..ChannelConfig::default()
    };
    let id = d.a.open(d.now, cfg).unwrap();
    assert_eq!(id % 2, 0, "DTLS client uses even stream ids");
    d.a.send_text(d.now, id, "hello").unwrap();
    d.a.send_binary(d.now, id, Bytes::from_static(&[1, 2, 3]))
        .unwrap();
    d.a.send_text(d.now, id, "").unwrap();
    d.a.send_binary(d.now, id, Bytes::new()).unwrap();
    d.run();
    assert!(d.ev[0].contains(&E::ChannelOpen {
        id,
        label: "chat".into(),
        protocol: "proto".into()
    }));
    assert_eq!(
        d.ev[1][0],
        E::ChannelOpen {
            id,
            label: "chat".into(),
            protocol: "proto".into()
        }
    );
    let msgs: Vec<&E> = d.ev[1]
        .iter()
        .filter(|e| matches!(e, E::Message { .. }))
        .collect();
    assert_eq!(
        msgs,
        vec![
            &E::Message {
                id,
                binary: false,
                data: Bytes::from_static(b"hello")
            },
            &E::Message {
                id,
                binary: true,
                data: Bytes::from_static(&[1, 2, 3])
            },
            &E::Message {
                id,
                binary: false,
                data: Bytes::new()
            },
            &E::Message {
                id,
                binary: true,
                data: Bytes::new()
            },
        ]
    );
    // The server side opens odd ids and can answer.
    let id2 = d.b.open(d.now, ChannelConfig::default()).unwrap();
    assert_eq!(id2 % 2, 1);
    d.b.send_text(d.now, id, "back").unwrap();
    d.run();
    assert!(d.ev[0].contains(&E::Message {
        id,
        binary: false,
        data: Bytes::from_static(b"back")
    }));
}

#[test]
fn every_channel_type_round_trips() {
    for (ordered, rel) in [
        (true, Reliability::Reliable),
        (false, Reliability::Reliable),
        (true, Reliability::MaxRetransmits(3)),
        (false, Reliability::MaxRetransmits(0)),
        (true, Reliability::MaxLifetimeMs(150)),
        (false, Reliability::MaxLifetimeMs(1)),
    ] {
        let c = ChannelConfig {
            label: "l".into(),
            protocol: String::new(),
            ordered,
            reliability: rel,
            priority: 512,
            negotiated: None,
        };
        let m = OpenMessage { config: c.clone() };
        assert_eq!(OpenMessage::parse(&m.emit()).unwrap().config, c);
        let mut d = Dc::new();
        let id = d.a.open(d.now, c).unwrap();
        d.a.send_text(d.now, id, "x").unwrap();
        d.run();
        assert!(d.ev[1].iter().any(|e| matches!(e, E::Message { .. })));
    }
}

#[test]
fn negotiated_channels_skip_dcep() {
    let mut d = Dc::new();
    let c = ChannelConfig {
        negotiated: Some(7),
        ..ChannelConfig::default()
    };
    assert_eq!(d.a.open(d.now, c.clone()).unwrap(), 7);
    assert_eq!(d.b.open(d.now, c).unwrap(), 7);
    d.a.send_text(d.now, 7, "pre-agreed").unwrap();
    d.run();
    assert!(d.ev[1].contains(&E::Message {
        id: 7,
        binary: false,
        data: Bytes::from_static(b"pre-agreed")
    }));
}

#[test]
fn close_resets_both_directions() {
    let mut d = Dc::new();
    let id = d.a.open(d.now, ChannelConfig::default()).unwrap();
    d.a.send_text(d.now, id, "last words").unwrap();
    d.a.close(d.now, id).unwrap();
    assert!(d.a.send_text(d.now, id, "too late").is_err());
    d.run();
    assert!(d.ev[0].contains(&E::ChannelClosed { id }), "{:?}", d.ev[0]);
    assert!(d.ev[1].contains(&E::ChannelClosed { id }), "{:?}", d.ev[1]);
    assert!(d.ev[1].contains(&E::Message {
        id,
        binary: false,
        data: Bytes::from_static(b"last words")
    }));
    // The id can be reused.
    let id2 = d.a.open(d.now, ChannelConfig::default()).unwrap();
    assert_eq!(id2, id);
    d.a.send_text(d.now, id2, "again").unwrap();
    d.run();
    assert!(d.ev[1].contains(&E::Message {
        id,
        binary: false,
        data: Bytes::from_static(b"again")
    }));
}

#[test]
fn buffered_amount_and_low_threshold() {
    let mut d = Dc::new();
    let id = d.a.open(d.now, ChannelConfig::default()).unwrap();
    d.run();
    d.ev = [Vec::new(), Vec::new()];
    d.a.set_buffered_amount_low_threshold(id, 10_000);
    for _ in 0..100 {
        d.a.send_binary(d.now, id, Bytes::from(vec![0u8; 1000]))
            .unwrap();
    }
    assert_eq!(d.a.buffered_amount(id), 100_000);
    d.run();
    assert_eq!(d.a.buffered_amount(id), 0);
    assert_eq!(
        d.ev[0]
            .iter()
            .filter(|e| **e == E::BufferedAmountLow { id })
            .count(),
        1
    );
}

#[test]
fn open_with_lengths_past_payload_is_rejected() {
    let mut m = OpenMessage {
        config: ChannelConfig {
            label: "abc".into(),
            ..ChannelConfig::default()
        },
    }
    .emit();
    m[9] = 200; // label length past the end
    assert!(OpenMessage::parse(&m).is_err());
    assert!(OpenMessage::parse(&m[..5]).is_err());
    let mut d = Dc::new();
    // Sent raw on an odd (peer-parity for the server side? no: a is client, peer b opens odd).
    d.b.association_mut()
        .send(d.now, 1, ppid::DCEP, Bytes::from(m), SendOptions::default())
        .unwrap();
    d.run();
    assert!(
        d.ev[0]
            .iter()
            .any(|e| matches!(e, E::ChannelError { id: 1, .. })),
        "{:?}",
        d.ev[0]
    );
    assert!(!d.a.is_open(1));
}

#[test]
fn open_on_wrong_parity_is_rejected() {
    let mut d = Dc::new();
    let m = OpenMessage {
        config: ChannelConfig::default(),
    }
    .emit();
    // b (DTLS server) must use odd ids; an OPEN on id 2 is of a's parity.
    d.b.association_mut()
        .send(d.now, 2, ppid::DCEP, Bytes::from(m), SendOptions::default())
        .unwrap();
    d.run();
    assert!(
        d.ev[0]
            .iter()
            .any(|e| matches!(e, E::ChannelError { id: 2, .. }))
    );
    assert!(!d.a.is_open(2));
    assert!(!d.ev[0].iter().any(|e| matches!(e, E::ChannelOpen { .. })));
}

#[test]
fn deprecated_ppids_are_accepted() {
    let mut d = Dc::new();
    let c = ChannelConfig {
        negotiated: Some(3),
        ..ChannelConfig::default()
    };
    d.a.open(d.now, c.clone()).unwrap();
    d.b.open(d.now, c).unwrap();
    d.b.association_mut()
        .send(
            d.now,
            3,
            ppid::STRING_PARTIAL,
            Bytes::from_static(b"s"),
            SendOptions::default(),
        )
        .unwrap();
    d.b.association_mut()
        .send(
            d.now,
            3,
            ppid::BINARY_PARTIAL,
            Bytes::from_static(b"b"),
            SendOptions::default(),
        )
        .unwrap();
    d.run();
    let msgs: Vec<&E> = d.ev[0]
        .iter()
        .filter(|e| matches!(e, E::Message { .. }))
        .collect();
    assert_eq!(
        msgs,
        vec![
            &E::Message {
                id: 3,
                binary: false,
                data: Bytes::from_static(b"s")
            },
            &E::Message {
                id: 3,
                binary: true,
                data: Bytes::from_static(b"b")
            },
        ]
    );
}

/// When the peer restarts the association (RFC 9260 section 5.2.2), its channels are gone:
/// every open channel is reported closed, and new channels work on the new association.
#[test]
fn peer_restart_closes_every_channel() {
    let mut d = Dc::new();
    let id = d.a.open(d.now, ChannelConfig::default()).unwrap();
    d.run();
    assert!(d.b.is_open(id));
    // a reboots: a fresh endpoint (same DTLS role) connects to the established b.
    let c = Config {
        seed: Some(9),
        ..Config::default()
    };
    d.a = DataChannels::new(c, DtlsRole::Client, d.now);
    d.a.connect(d.now).unwrap();
    d.ev = [Vec::new(), Vec::new()];
    d.run();
    assert!(d.ev[0].contains(&E::Connected), "{:?}", d.ev[0]);
    assert!(d.ev[1].contains(&E::ChannelClosed { id }), "{:?}", d.ev[1]);
    assert!(!d.b.is_open(id));
    let id2 = d.a.open(d.now, ChannelConfig::default()).unwrap();
    d.run();
    d.a.send_text(d.now, id2, "after restart").unwrap();
    d.run();
    assert!(d.ev[1].iter().any(|e| matches!(
        e,
        E::Message { id: i, data, .. } if *i == id2 && &data[..] == b"after restart"
    )));
}
